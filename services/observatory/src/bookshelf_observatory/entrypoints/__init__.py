"""The observatory's entrypoints: the indexer consumer, JSON API, HTML pages."""
