"""The inventory service of Bookshelf: stock per book, reservations per order (docs/domain.md)."""
