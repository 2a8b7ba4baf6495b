"""The saga's pure model: state per order, the transition function, deterministic command ids."""
