"""Entrypoints: the HTTP routes and the consumer wiring."""
