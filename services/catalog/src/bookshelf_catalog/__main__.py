"""``python -m bookshelf_catalog [--role all|api|relay|consumers] [--host H] [--port P]``."""

from __future__ import annotations

from bookshelf_servicekit.runtime import run_service

from bookshelf_catalog.bootstrap import from_options


def main(argv: list[str] | None = None) -> None:
    """Run the catalog service until SIGTERM/SIGINT."""
    run_service("catalog", from_options, argv)


if __name__ == "__main__":
    main()
