"""localcloud's MNS (Simple Message Queue): queues, topics, subscriptions and push delivery.

service.py   MnsService: the REST API router and the internal API other services use
http_queues  queue operations on the wire          queues.py   queues and messages in SQLite
http_topics  topic and subscription operations      topics.py   topics, subscriptions, publishing
delivery.py  the push dispatcher and retry schedules notify.py  notification bodies (XML/JSON/…)
wire.py      MNS XML in and out                     rules.py    limits, defaults and MNS error codes
"""
