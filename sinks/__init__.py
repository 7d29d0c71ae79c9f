"""Kafka-to-PostgreSQL sinks: readings, house status, alerts, predictions, scrape logs and dead letters.

Consumers in one consumer group write each batch in a database transaction and commit the Kafka
offsets only after it commits (at-least-once). Every write is idempotent, so redelivery and replay
never duplicate a row.
"""
