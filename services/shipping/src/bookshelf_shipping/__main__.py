"""``python -m bookshelf_shipping [--role all|api|relay|consumers] [--host H] [--port P]``."""

from __future__ import annotations

from bookshelf_servicekit.runtime import run_service

from bookshelf_shipping.bootstrap import build_components


def main() -> None:
    """Run the shipping service until SIGTERM/SIGINT."""
    run_service("shipping", build_components)


if __name__ == "__main__":
    main()
