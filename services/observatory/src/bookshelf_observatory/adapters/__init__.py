"""The observatory's adapters: index tables and queries, Kafka reads, HTTP probes of the services."""
