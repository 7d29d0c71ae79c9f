"""Alert notifier: consumes the alerts topic and delivers each alert state by webhook and e-mail.

Routing rules in a TOML or JSON file pick the channels of each alert. Every delivery is recorded in
the ``notification_deliveries`` table before and after it is attempted, so a restart or a redelivered
Kafka message does not send the same alert state twice (see :mod:`notifier.store` for the one window
where it can).
"""
