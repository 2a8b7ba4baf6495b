"""FastAPI dependencies of the observatory routes (what bootstrap put on ``app.state``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bookshelf_observatory.service_layer.charts import Charts
from bookshelf_observatory.service_layer.observatory import Observatory

STATE_KEY = "observatory"
CHARTS_KEY = "charts"


def observatory(request: Request) -> Observatory:
    """The ``Observatory`` bootstrap stored on the app."""
    runtime = getattr(request.app.state, STATE_KEY)
    assert isinstance(runtime, Observatory)
    return runtime


Runtime = Annotated[Observatory, Depends(observatory)]


def charts(request: Request) -> Charts:
    """The ``Charts`` bootstrap stored on the app."""
    found = getattr(request.app.state, CHARTS_KEY)
    assert isinstance(found, Charts)
    return found


ChartsDep = Annotated[Charts, Depends(charts)]
