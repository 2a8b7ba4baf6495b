"""The order-fulfillment saga (process manager of docs/domain.md) as a faust-streaming worker."""
