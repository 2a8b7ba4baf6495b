"""POST /webhooks/book-supply: signed BookSupply payloads, stored before 202 is answered.

Authentication: ``X-BookSupply-Timestamp`` (unix seconds, within the tolerance of now) and
``X-BookSupply-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`` with
``SUPPLIER_WEBHOOK_SECRET``, compared in constant time.

Replays: a payload id (``payload_id`` or ``id``) seen before answers the first message id without a
second effect; a payload without an id is recognised by its delivery's signature, so replaying a
captured request inside the timestamp window changes nothing either.

Size: the payload travels inside one Kafka record (SupplierPayloadReceived), so a body over
``MAX_MESSAGE_BYTES`` is refused with 413 before it is read, and a body whose event would still not
fit is refused with 413 by the outbox (``MessageTooLarge``); nothing is stored either way.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from bookshelf_messaging.limits import MAX_MESSAGE_BYTES
from bookshelf_servicekit.auth import Unauthorized
from bookshelf_servicekit.responses import OrjsonResponse
from fastapi import APIRouter, HTTPException, Request

from bookshelf_catalog.entrypoints.deps import Bus, Settings
from bookshelf_catalog.entrypoints.schemas import WebhookAccepted
from bookshelf_catalog.service_layer.commands import ReceiveSupplierPayload

TIMESTAMP_HEADER = "X-BookSupply-Timestamp"
SIGNATURE_HEADER = "X-BookSupply-Signature"
CHALLENGE = 'BookSupply-HMAC-SHA256 realm="book-supply"'
MAX_TIMESTAMP_DIGITS = 12
WEBHOOK_PATH = "/webhooks/book-supply"
WEBHOOK_BODY_LIMIT = MAX_MESSAGE_BYTES  # the body is the event's payload: no bigger than a record

router = APIRouter(tags=["supplier feed"])


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value of a body: ``sha256=<hex>``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, *, now: float, tolerance_s: int
) -> None:
    """Raise Unauthorized unless the timestamp is fresh and the signature matches the body."""
    if not timestamp or not signature:
        raise Unauthorized(f"send {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}", challenge=CHALLENGE)
    text = timestamp.strip()
    # ASCII digits only and a bounded length: int() would also take "1_000" or other scripts' digits,
    # and a 400-digit number overflows the float arithmetic below (a 500 instead of a 401).
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_TIMESTAMP_DIGITS:
        raise Unauthorized(f"{TIMESTAMP_HEADER} must be unix seconds", challenge=CHALLENGE)
    if abs(now - int(text)) > tolerance_s:
        raise Unauthorized(
            f"{TIMESTAMP_HEADER} is more than {tolerance_s} s away from now (replayed or clock skew)",
            challenge=CHALLENGE,
        )
    expected = sign(secret, text, body)
    if not hmac.compare_digest(signature.strip().encode(), expected.encode()):
        raise Unauthorized(f"{SIGNATURE_HEADER} does not match the body", challenge=CHALLENGE)


def parse_payload(body: bytes) -> dict[str, Any]:
    """The JSON object of a webhook body; 400 when it is not JSON or not an object."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, f"the body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise HTTPException(400, f"the body must be a JSON object, got {type(payload).__name__}")
    return payload


@router.post(
    WEBHOOK_PATH,
    status_code=202,
    response_model=WebhookAccepted,
    responses={
        400: {"description": "body is not a JSON object"},
        401: {"description": "missing or bad signature, or stale timestamp"},
        413: {"description": "body, or the event carrying it, over the Kafka record limit (problem+json)"},
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    },
)
async def book_supply_webhook(request: Request, bus: Bus, settings: Settings) -> OrjsonResponse:
    """Accept a BookSupply payload: verify, store, queue it for the supplier feed, answer its message id."""
    body = await request.body()
    signature = request.headers.get(SIGNATURE_HEADER)
    verify_signature(
        settings.secret("supplier_webhook_secret"),
        request.headers.get(TIMESTAMP_HEADER),
        signature,
        body,
        now=time.time(),
        tolerance_s=settings.supplier_webhook_tolerance_s,
    )
    payload = parse_payload(body)
    command = ReceiveSupplierPayload(
        payload=payload, received_at=datetime.now(UTC), delivery_id=(signature or "").strip()
    )
    message_id = await bus.handle(command)
    return OrjsonResponse({"message_id": str(message_id)}, status_code=202)
