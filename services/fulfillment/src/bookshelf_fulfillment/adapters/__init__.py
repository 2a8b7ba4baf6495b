"""Glue between the pure saga and Kafka: record parsing, envelopes, the deadline index."""
