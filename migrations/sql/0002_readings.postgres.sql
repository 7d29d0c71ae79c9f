-- Readings on plain PostgreSQL: one table with a BRIN index on observed_at (rows arrive roughly in
-- time order), and rollup tables that an insert trigger keeps current, behind the readings_5m,
-- readings_1h and readings_1d views. The views return the same rows as the TimescaleDB lane's
-- real-time continuous aggregates.

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
CREATE INDEX readings_observed_brin ON readings USING brin (observed_at);
CREATE INDEX readings_house_time ON readings (farm_id, house_number, observed_at DESC);

-- Sums and counts rather than averages, so that each insert can be merged in.
CREATE TABLE readings_rollup_5m (
    bucket timestamptz NOT NULL,
    farm_id text NOT NULL,
    house_number int NOT NULL,
    controller_id text NOT NULL,
    parameter text NOT NULL,
    unit text NOT NULL,
    value_sum double precision NOT NULL,
    value_min double precision NOT NULL,
    value_max double precision NOT NULL,
    value_count bigint NOT NULL,
    target_sum double precision,
    target_count bigint NOT NULL,
    PRIMARY KEY (controller_id, parameter, unit, bucket, farm_id, house_number)
);
CREATE TABLE readings_rollup_1h (LIKE readings_rollup_5m INCLUDING ALL);
CREATE TABLE readings_rollup_1d (LIKE readings_rollup_5m INCLUDING ALL);
CREATE INDEX readings_rollup_5m_house ON readings_rollup_5m (farm_id, house_number, bucket);
CREATE INDEX readings_rollup_1h_house ON readings_rollup_1h (farm_id, house_number, bucket);
CREATE INDEX readings_rollup_1d_house ON readings_rollup_1d (farm_id, house_number, bucket);

-- Merges the rows inserted by one statement into each rollup table. Rows skipped by
-- ON CONFLICT DO NOTHING are not in the transition table, so replays do not count twice.
-- The transition table is visible only in this function, so the loop cannot move to a helper.
CREATE FUNCTION farmstream_readings_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rollup record;
BEGIN
    FOR rollup IN
        SELECT * FROM (VALUES ('readings_rollup_5m', INTERVAL '5 minutes'),
                              ('readings_rollup_1h', INTERVAL '1 hour'),
                              ('readings_rollup_1d', INTERVAL '1 day')) AS t (name, width)
    LOOP
        EXECUTE format(
            $sql$
            INSERT INTO %1$I AS r (bucket, farm_id, house_number, controller_id, parameter, unit,
                                   value_sum, value_min, value_max, value_count, target_sum, target_count)
            SELECT date_bin(%2$L::interval, observed_at, TIMESTAMPTZ '2000-01-03 00:00:00+00'),
                   farm_id, house_number, controller_id, parameter, unit,
                   sum(value), min(value), max(value), count(*), sum(target), count(target)
            FROM inserted_readings
            WHERE period = 'instant'
            GROUP BY 1, 2, 3, 4, 5, 6
            ON CONFLICT (controller_id, parameter, unit, bucket, farm_id, house_number) DO UPDATE SET
                value_sum = r.value_sum + excluded.value_sum,
                value_min = least(r.value_min, excluded.value_min),
                value_max = greatest(r.value_max, excluded.value_max),
                value_count = r.value_count + excluded.value_count,
                target_sum = CASE
                    WHEN r.target_sum IS NULL THEN excluded.target_sum
                    WHEN excluded.target_sum IS NULL THEN r.target_sum
                    ELSE r.target_sum + excluded.target_sum END,
                target_count = r.target_count + excluded.target_count
            $sql$,
            rollup.name, rollup.width);
    END LOOP;
    RETURN NULL;
END
$$;

-- NOTE: UPDATE and DELETE on readings leave the rollups as they are. The sink only inserts, and
-- retention deletes on purpose without touching them.
CREATE TRIGGER readings_rollup AFTER INSERT ON readings
    REFERENCING NEW TABLE AS inserted_readings
    FOR EACH STATEMENT EXECUTE FUNCTION farmstream_readings_rollup();

-- The origin 2000-01-03 (a Monday) matches TimescaleDB's time_bucket default, so buckets agree.
CREATE VIEW readings_5m AS
SELECT bucket, farm_id, house_number, controller_id, parameter, unit,
       value_sum / value_count AS value_avg, value_min, value_max, value_count,
       CASE WHEN target_count > 0 THEN target_sum / target_count END AS target_avg
FROM readings_rollup_5m;

CREATE VIEW readings_1h AS
SELECT bucket, farm_id, house_number, controller_id, parameter, unit,
       value_sum / value_count AS value_avg, value_min, value_max, value_count,
       CASE WHEN target_count > 0 THEN target_sum / target_count END AS target_avg
FROM readings_rollup_1h;

CREATE VIEW readings_1d AS
SELECT bucket, farm_id, house_number, controller_id, parameter, unit,
       value_sum / value_count AS value_avg, value_min, value_max, value_count,
       CASE WHEN target_count > 0 THEN target_sum / target_count END AS target_avg
FROM readings_rollup_1d;

-- Retention: deletes raw readings older than the given age and returns how many went. The
-- rollups keep their rows, as TimescaleDB's continuous aggregates keep theirs after retention.
CREATE FUNCTION farmstream_drop_old_readings(retain interval) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    removed bigint;
BEGIN
    DELETE FROM readings WHERE observed_at < now() - retain;
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END
$$;
