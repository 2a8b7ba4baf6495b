"""Use cases of the dashboard and its API: compose the index, Kafka and the services' answers."""
