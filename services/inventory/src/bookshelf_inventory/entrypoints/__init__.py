"""Entrypoints: HTTP routes and Kafka consumer wiring."""
