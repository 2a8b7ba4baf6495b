"""Projections: which event changes which read model, through the store ports."""
