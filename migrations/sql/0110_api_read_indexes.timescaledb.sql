-- Indexes for the API's chart queries: one house, a few parameters, a time range. An index on a
-- continuous aggregate is built on its materialization hypertable.
CREATE INDEX readings_5m_parameter ON readings_5m (farm_id, house_number, parameter, bucket);
CREATE INDEX readings_1h_parameter ON readings_1h (farm_id, house_number, parameter, bucket);
CREATE INDEX readings_1d_parameter ON readings_1d (farm_id, house_number, parameter, bucket);
