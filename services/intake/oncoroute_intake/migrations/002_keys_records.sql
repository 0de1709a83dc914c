-- Submitting systems' API keys, stored only as SHA-256 hashes of the key.
CREATE TABLE api_keys (
    key_id      text PRIMARY KEY,
    key_hash    text NOT NULL UNIQUE,
    name        text NOT NULL,
    source      text,                 -- the one source a submitter key may submit for
    role        text NOT NULL CHECK (role IN ('submitter', 'operator')),
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    CHECK (role = 'operator' OR source IS NOT NULL)
);

ALTER TABLE cases ADD COLUMN missing_records jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE cases ADD COLUMN matched_on text;
ALTER TABLE cases ADD COLUMN closed_at timestamptz;
ALTER TABLE cases ADD COLUMN close_reason text;
CREATE INDEX cases_source ON cases (source, opened_at);
