-- Delivery log and retry queue of the notifier: one row per alert state (event_id) and channel.
-- The unique (event_id, channel) key is what stops a restarted or redelivered notifier from sending
-- the same alert state twice; rule is the name of the routing rule that selected the channel.

CREATE TABLE notification_deliveries (
    id bigserial PRIMARY KEY,
    event_id uuid NOT NULL,
    alert_id uuid NOT NULL,
    alert_sequence int NOT NULL CHECK (alert_sequence >= 0),
    alert_state text NOT NULL CHECK (alert_state IN ('open', 'reminder', 'resolved')),
    severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    farm_id text NOT NULL,
    house_number int,
    channel text NOT NULL,
    rule text NOT NULL,
    -- pending: claimed by a worker until next_attempt_at (the lease); retrying: waits for next_attempt_at.
    status text NOT NULL CHECK (status IN ('pending', 'retrying', 'delivered', 'failed')),
    attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error text,
    first_attempt_at timestamptz NOT NULL,
    last_attempt_at timestamptz,
    next_attempt_at timestamptz,
    delivered_at timestamptz,
    -- The alert event as consumed, so the retry queue can deliver it without re-reading Kafka.
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, channel)
);

CREATE INDEX notification_deliveries_due_idx
    ON notification_deliveries (next_attempt_at)
    WHERE status IN ('pending', 'retrying');

CREATE INDEX notification_deliveries_alert_idx ON notification_deliveries (alert_id, alert_sequence);
