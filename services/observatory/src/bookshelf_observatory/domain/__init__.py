"""What the observatory knows about messages: parsed record metadata and causation trees (no I/O)."""
