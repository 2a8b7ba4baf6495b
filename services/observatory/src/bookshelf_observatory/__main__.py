"""``python -m bookshelf_observatory [--role all|api|consumers] [--host H] [--port P]``."""

from __future__ import annotations

from bookshelf_servicekit.runtime import run_service

from bookshelf_observatory.bootstrap import build_components


def main() -> None:
    """Run the observatory (dashboard + indexer) until SIGTERM/SIGINT."""
    run_service("observatory", build_components)


if __name__ == "__main__":
    main()
