"""Applying the saga's decisions: send the commands, then write the table."""
