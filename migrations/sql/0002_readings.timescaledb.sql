-- Readings on TimescaleDB: a hypertable on observed_at with compression, and real-time continuous
-- aggregates readings_5m, readings_1h and readings_1d. Compression, retention and refresh policies
-- are (re)applied by the migration runner on every start, because their ages are settings.

CREATE TABLE readings (
    observed_at timestamptz NOT NULL,
    controller_id text NOT NULL,
    farm_id text NOT NULL,
    house_number int NOT NULL,
    parameter text NOT NULL,
    period text NOT NULL CHECK (period IN ('instant', 'day')),
    value double precision NOT NULL,
    unit text NOT NULL,
    quality text NOT NULL CHECK (quality IN ('good', 'out_of_range')),
    target double precision,
    growth_day int,
    source_key text,
    source_command text,
    fetched_at timestamptz,
    event_id uuid,
    CONSTRAINT readings_natural_key UNIQUE (controller_id, parameter, period, observed_at)
);
SELECT create_hypertable('readings', by_range('observed_at', INTERVAL '7 days'));
CREATE INDEX readings_house_time ON readings (farm_id, house_number, observed_at DESC);

ALTER TABLE readings SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'controller_id, parameter',
    timescaledb.compress_orderby = 'period, observed_at DESC'
);

-- materialized_only = false adds the rows not yet materialized, so queries see every reading at once.
CREATE MATERIALIZED VIEW readings_5m
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '5 minutes', observed_at) AS bucket,
       farm_id, house_number, controller_id, parameter, unit,
       avg(value) AS value_avg, min(value) AS value_min, max(value) AS value_max,
       count(*) AS value_count, avg(target) AS target_avg
FROM readings
WHERE period = 'instant'
GROUP BY 1, 2, 3, 4, 5, 6
WITH NO DATA;

CREATE MATERIALIZED VIEW readings_1h
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 hour', observed_at) AS bucket,
       farm_id, house_number, controller_id, parameter, unit,
       avg(value) AS value_avg, min(value) AS value_min, max(value) AS value_max,
       count(*) AS value_count, avg(target) AS target_avg
FROM readings
WHERE period = 'instant'
GROUP BY 1, 2, 3, 4, 5, 6
WITH NO DATA;

CREATE MATERIALIZED VIEW readings_1d
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 day', observed_at) AS bucket,
       farm_id, house_number, controller_id, parameter, unit,
       avg(value) AS value_avg, min(value) AS value_min, max(value) AS value_max,
       count(*) AS value_count, avg(target) AS target_avg
FROM readings
WHERE period = 'instant'
GROUP BY 1, 2, 3, 4, 5, 6
WITH NO DATA;

-- Same signature as the plain lane, so the sink's hourly retention call works on both lanes. The
-- retention policy normally does this; the function drops chunks past the age and returns their count.
CREATE FUNCTION farmstream_drop_old_readings(retain interval) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    dropped bigint;
BEGIN
    SELECT count(*) INTO dropped FROM drop_chunks('readings', older_than => retain);
    RETURN dropped;
END
$$;
