"""Ordering's entrypoints: the HTTP routes and the Kafka consumer wiring."""
