"""The observatory: an index of every message's metadata (what ``bookshelf trace`` reads), consumer
lag, outbox backlog, dead letters with replay and purge, saga states, and a live dashboard on port 9000.
"""
