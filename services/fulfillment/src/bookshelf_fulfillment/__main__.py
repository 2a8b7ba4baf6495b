"""``python -m bookshelf_fulfillment``: create the saga's topics, then run the faust worker until SIGTERM."""

from __future__ import annotations

from bookshelf_fulfillment.bootstrap import main

if __name__ == "__main__":
    main()
