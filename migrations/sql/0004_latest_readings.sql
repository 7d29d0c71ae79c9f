-- Newest instant reading of each controller and parameter, which the sink upserts in the transaction
-- that inserts the readings, so the latest-readings endpoint reads one house's rows by primary key
-- instead of sorting its last hour of readings. The controller id is derived from farm and house,
-- so the key stays unique per (controller_id, parameter); farm and house lead it for that lookup.

CREATE TABLE latest_readings (
    farm_id text NOT NULL,
    house_number int NOT NULL,
    controller_id text NOT NULL,
    parameter text NOT NULL,
    observed_at timestamptz NOT NULL,
    value double precision NOT NULL,
    unit text NOT NULL,
    quality text NOT NULL CHECK (quality IN ('good', 'out_of_range')),
    target double precision,
    growth_day int,
    PRIMARY KEY (farm_id, house_number, controller_id, parameter)
);

-- Backfill from the readings already stored. A skip scan over the readings_natural_key index finds
-- each (controller_id, parameter) in one index probe, then one backward probe fetches its newest
-- instant row, so a database of 50 million readings is filled without sorting them all.
WITH RECURSIVE reading_keys (controller_id, parameter) AS (
    (SELECT controller_id, parameter FROM readings
     WHERE period = 'instant'
     ORDER BY controller_id, parameter LIMIT 1)
    UNION ALL
    SELECT following.controller_id, following.parameter
    FROM reading_keys,
         LATERAL (SELECT r.controller_id, r.parameter FROM readings AS r
                  WHERE r.period = 'instant'
                      AND (r.controller_id, r.parameter) > (reading_keys.controller_id, reading_keys.parameter)
                  ORDER BY r.controller_id, r.parameter LIMIT 1) AS following
)
INSERT INTO latest_readings (farm_id, house_number, controller_id, parameter, observed_at, value, unit,
                             quality, target, growth_day)
SELECT newest.farm_id, newest.house_number, newest.controller_id, newest.parameter, newest.observed_at,
       newest.value, newest.unit, newest.quality, newest.target, newest.growth_day
FROM reading_keys,
     LATERAL (SELECT r.* FROM readings AS r
              WHERE r.controller_id = reading_keys.controller_id AND r.parameter = reading_keys.parameter
                  AND r.period = 'instant'
              ORDER BY r.observed_at DESC LIMIT 1) AS newest;
