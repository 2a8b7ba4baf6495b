"""``python -m bookshelf_inventory [--role all|api|relay|consumers] [--host H] [--port P]``."""

from __future__ import annotations

from collections.abc import Sequence

from bookshelf_servicekit.runtime import run_service

from bookshelf_inventory.bootstrap import build_components


def main(argv: Sequence[str] | None = None) -> None:
    """Run the inventory service until SIGTERM/SIGINT."""
    run_service("inventory", build_components, argv)


if __name__ == "__main__":
    main()
