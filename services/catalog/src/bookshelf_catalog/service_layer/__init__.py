"""Use cases of the catalog: commands, their handlers, the unit of work and the message bus."""
