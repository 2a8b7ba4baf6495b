"""Entrypoints of the catalog: FastAPI routes and the supplier-feed consumer."""
