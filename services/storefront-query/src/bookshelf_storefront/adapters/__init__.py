"""SQL: read-model tables and their generations, projection writes, API queries."""
