"""storefront-query: read models (StorefrontView, BookCatalog, BookReport, OrderTracking) and their API."""
