"""The order-fulfillment saga (process manager of DOMAIN.md) as a faust-streaming worker."""
