-- API keys of the REST API. key_hash is 'sha256$<salt hex>$<digest hex>' of the key's secret; the
-- secret itself is never stored. farm_ids lists the farms the key may read. A revoked key keeps its
-- row, so the list shows who had access and when it ended.

CREATE TABLE api_keys (
    key_id text PRIMARY KEY,
    name text NOT NULL CHECK (name <> ''),
    key_hash text NOT NULL,
    farm_ids text[] NOT NULL CHECK (cardinality(farm_ids) > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
