"""``python -m bookshelf_ordering [--role all|api|relay|consumers] [--host H] [--port P]``."""

from __future__ import annotations

import sys

from bookshelf_servicekit.runtime import run_service

from bookshelf_ordering.bootstrap import build_components


def main() -> None:
    """Run the ordering service until SIGTERM/SIGINT."""
    run_service("ordering", build_components, sys.argv[1:])


if __name__ == "__main__":
    main()
