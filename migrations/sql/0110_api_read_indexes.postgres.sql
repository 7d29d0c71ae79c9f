-- Indexes for the API's chart queries: one house, a few parameters, a time range. Without the
-- parameter in the key, a week of one parameter reads every parameter's rows of the house.
CREATE INDEX readings_rollup_5m_parameter ON readings_rollup_5m (farm_id, house_number, parameter, bucket);
CREATE INDEX readings_rollup_1h_parameter ON readings_rollup_1h (farm_id, house_number, parameter, bucket);
CREATE INDEX readings_rollup_1d_parameter ON readings_rollup_1d (farm_id, house_number, parameter, bucket);
