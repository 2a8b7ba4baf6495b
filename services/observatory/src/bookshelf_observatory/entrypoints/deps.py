"""FastAPI dependencies of the observatory routes (what bootstrap put on ``app.state``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bookshelf_observatory.service_layer.observatory import Observatory

STATE_KEY = "observatory"


def observatory(request: Request) -> Observatory:
    """The ``Observatory`` bootstrap stored on the app."""
    runtime = getattr(request.app.state, STATE_KEY)
    assert isinstance(runtime, Observatory)
    return runtime


Runtime = Annotated[Observatory, Depends(observatory)]
