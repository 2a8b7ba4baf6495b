"""``python -m bookshelf_storefront [--role all|api|consumers] [--host H] [--port P]``."""

from __future__ import annotations

from bookshelf_servicekit.runtime import run_service

from bookshelf_storefront.bootstrap import build_components


def main() -> None:
    """Run storefront-query until SIGTERM/SIGINT."""
    run_service("storefront", build_components)


if __name__ == "__main__":
    main()
