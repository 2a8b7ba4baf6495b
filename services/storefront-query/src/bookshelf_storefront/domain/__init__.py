"""Pure read-model logic: event -> row values, sales bookkeeping, tracking history, query specs."""
