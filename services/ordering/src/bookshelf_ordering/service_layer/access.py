"""Order access tokens: derived from the order id under a server secret, stored only as a hash.

``token = base64url(HMAC-SHA256(ORDERING_ACCESS_TOKEN_SECRET, "order-access:" + order_id))``: 256
bits that nobody can compute without the secret. ``orders.access_token_hash`` keeps its SHA-256, and
requests are checked against that hash, so a leaked database holds no usable token. The token is in
the body of ``POST /orders`` only; an idempotent replay of that POST derives it again from the order
id, because the stored answer does not hold it (docs/adr/0009-order-access-tokens.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from uuid import UUID

from bookshelf_servicekit.auth import token_hash

_CONTEXT = b"order-access:"


@dataclass(frozen=True, slots=True)
class OrderTokens:
    """Derives an order's access token and the hash that is stored instead of it."""

    secret: bytes

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("the order access token secret is empty")

    def token_for(self, order_id: UUID) -> str:
        """The access token of ``order_id`` (43 URL-safe characters, 256 bits)."""
        digest = hmac.new(self.secret, _CONTEXT + order_id.bytes, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def hash_for(self, order_id: UUID) -> str:
        """What ``orders.access_token_hash`` stores for ``order_id``."""
        return token_hash(self.token_for(order_id))
