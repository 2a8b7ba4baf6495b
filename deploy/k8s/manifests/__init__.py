"""The templates behind ``deploy/k8s/generate.py``: the objects every Bookshelf service is deployed as.

``model``: role and service descriptions; ``pods``: labels, security, probes, env and volumes shared by
every pod; ``workloads``: a service's Deployments, Services, PDBs, HPAs and migration Job; ``saga``:
the fulfillment StatefulSet; ``topics``: the topic-creation Job and the Strimzi KafkaTopics.
"""
