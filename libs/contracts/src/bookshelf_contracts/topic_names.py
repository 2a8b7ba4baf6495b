"""The names of the primary topics, on their own so each contract class can name its topic (``TOPIC``)
and ``topics`` can derive what each topic carries from the contract classes."""

from __future__ import annotations

CATALOG_BOOKS = "catalog.books"
INVENTORY_STOCK = "inventory.stock"
INVENTORY_RESERVATIONS = "inventory.reservations"
ORDERING_ORDERS = "ordering.orders"
SHIPPING_SHIPMENTS = "shipping.shipments"
INVENTORY_COMMANDS = "inventory.commands"
ORDERING_COMMANDS = "ordering.commands"
SHIPPING_COMMANDS = "shipping.commands"
SUPPLIER_BOOK_SUPPLY = "supplier.book-supply"
