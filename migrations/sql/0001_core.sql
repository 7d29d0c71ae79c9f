-- Farms, houses, controllers, house status, alerts, predictions, scrape logs and dead letters.
-- Identical on both lanes; readings and their aggregates are in 0002, which differs per lane.

CREATE TABLE farms (
    farm_id text PRIMARY KEY,
    name text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE houses (
    farm_id text NOT NULL REFERENCES farms (farm_id),
    house_number int NOT NULL CHECK (house_number >= 1),
    name text,
    PRIMARY KEY (farm_id, house_number)
);

CREATE TABLE controllers (
    controller_id text PRIMARY KEY,
    farm_id text NOT NULL,
    house_number int NOT NULL,
    connection_status text,
    growth_day int,
    controller_time text,
    last_status_at timestamptz,
    last_reading_at timestamptz,
    FOREIGN KEY (farm_id, house_number) REFERENCES houses (farm_id, house_number)
);

CREATE TABLE house_status (
    event_id uuid PRIMARY KEY,
    controller_id text NOT NULL,
    farm_id text NOT NULL,
    house_number int NOT NULL,
    connection_status text NOT NULL
        CHECK (connection_status IN ('connected', 'offline', 'disconnected', 'unknown')),
    growth_day int,
    house_mode int,
    siren_on boolean,
    alarm_codes text[] NOT NULL DEFAULT '{}',
    readings_published int NOT NULL,
    sentinel_keys text[] NOT NULL DEFAULT '{}',
    observed_at timestamptz NOT NULL,
    fetched_at timestamptz NOT NULL
);
CREATE INDEX house_status_house_time ON house_status (farm_id, house_number, observed_at DESC);

-- Current state of each alert episode, upserted from Alert events; last_sequence never decreases.
CREATE TABLE alerts (
    alert_id uuid PRIMARY KEY,
    farm_id text NOT NULL,
    house_number int,
    subject text NOT NULL,
    rule text NOT NULL,
    severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    state text NOT NULL CHECK (state IN ('open', 'resolved')),
    title text NOT NULL,
    message text NOT NULL,
    value double precision,
    expected double precision,
    opened_at timestamptz NOT NULL,
    last_event_at timestamptz NOT NULL,
    resolved_at timestamptz,
    last_sequence int NOT NULL,
    evidence jsonb NOT NULL DEFAULT '{}',
    acknowledged_at timestamptz,
    acknowledged_by text,
    resolved_by text
);
CREATE INDEX alerts_farm_opened ON alerts (farm_id, opened_at DESC);
CREATE INDEX alerts_state_opened ON alerts (state, opened_at DESC);

-- One row per alert transition as published; state keeps 'reminder' here.
CREATE TABLE alert_events (
    event_id uuid PRIMARY KEY,
    alert_id uuid NOT NULL,
    sequence int NOT NULL CHECK (sequence >= 0),
    state text NOT NULL CHECK (state IN ('open', 'reminder', 'resolved')),
    severity text NOT NULL,
    event_time timestamptz NOT NULL,
    payload jsonb NOT NULL,
    UNIQUE (alert_id, sequence)
);

-- Operator actions taken through the API.
CREATE TABLE alert_actions (
    id bigserial PRIMARY KEY,
    alert_id uuid NOT NULL REFERENCES alerts (alert_id),
    action text NOT NULL CHECK (action IN ('acknowledge', 'resolve')),
    actor text NOT NULL,
    note text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_actions_alert ON alert_actions (alert_id, created_at);

CREATE TABLE predictions (
    event_id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('failure_prediction', 'recommendation')),
    farm_id text NOT NULL,
    house_number int NOT NULL,
    controller_id text,
    score double precision,
    threshold double precision,
    confidence double precision,
    action text,
    reason text,
    window_start timestamptz,
    window_end timestamptz,
    created_at timestamptz NOT NULL,
    evidence jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX predictions_house_created ON predictions (farm_id, house_number, created_at DESC);

CREATE TABLE scrape_logs (
    event_id uuid PRIMARY KEY,
    farm_id text NOT NULL,
    cycle_id text NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('success', 'partial', 'failed', 'auth_failed')),
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    duration_seconds double precision NOT NULL,
    houses_total int NOT NULL,
    houses_connected int NOT NULL,
    readings_published int NOT NULL,
    dead_letters int NOT NULL,
    requests int NOT NULL,
    retries int NOT NULL,
    error_kind text,
    error_message text
);
CREATE INDEX scrape_logs_farm_started ON scrape_logs (farm_id, started_at DESC);

CREATE TABLE dead_letters (
    event_id text PRIMARY KEY,
    stage text NOT NULL,
    reason text NOT NULL,
    error_type text NOT NULL,
    farm_id text,
    house_number int,
    command text,
    source_key text,
    source_topic text,
    source_partition int,
    source_offset bigint,
    raw_encoding text NOT NULL CHECK (raw_encoding IN ('utf-8', 'base64')),
    raw_payload text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX dead_letters_created ON dead_letters (created_at DESC);
