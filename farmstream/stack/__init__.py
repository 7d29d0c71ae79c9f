"""The local stack: a real Kafka broker (KRaft) and a throwaway PostgreSQL cluster on loopback ports.

``farmstream stack up|down|status`` drives it. Each component records the process id it started in
``<stack_dir>/run`` and is stopped by that id only; logs go to ``<stack_dir>/logs``.
"""
