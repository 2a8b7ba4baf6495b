"""The consumer runner's handler contract: what a service registers per message type.

A ``Handler`` is called with the parsed contract, its envelope and the runner's session (whose
transaction also claims the inbox row and commits before the offset does). A ``BatchHandler`` gets
every consecutive fresh message of its types in a partition batch in one call, in order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bookshelf_contracts import Envelope
from sqlalchemy.ext.asyncio import AsyncSession

# The first argument is the parsed contract (a ``Message`` subclass). Typed ``Any`` so handlers can
# declare the class they handle (``message: BookAdded``) without a cast: Callable parameters are
# contravariant, and a handler table maps each type name to its own class.
Handler = Callable[[Any, Envelope, AsyncSession], Awaitable[None]]
Batch = Sequence[tuple[Any, Envelope]]


@dataclass(frozen=True, slots=True)
class BatchHandler:
    """Wraps ``fn(batch, session)``: consecutive messages it handles arrive in one call, in order."""

    fn: Callable[[Batch, AsyncSession], Awaitable[None]]


AnyHandler = Handler | BatchHandler
