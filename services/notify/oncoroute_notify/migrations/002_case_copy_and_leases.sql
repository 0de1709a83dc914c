-- Notify's own copy of what it needs from other services' events (it reads no other schema).
CREATE TABLE cases (
    case_id    text PRIMARY KEY,
    facts      jsonb NOT NULL,      -- contacts, consent, language, time zone; never a diagnosis
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE offers (
    assignment_id  text PRIMARY KEY,
    case_id        text NOT NULL,
    seat           text NOT NULL,
    reviewer_id    text NOT NULL,
    reviewer_name  text NOT NULL,
    reviewer_email text,
    status         text NOT NULL,   -- offered | accepted | declined | expired | completed | withdrawn
    updated_at     timestamptz NOT NULL
);
CREATE INDEX offers_case ON offers (case_id);

-- Events that arrived before their case.opened (three topics, no order between them).
CREATE TABLE parked_events (
    id        bigserial PRIMARY KEY,
    event_id  text NOT NULL UNIQUE,
    case_id   text NOT NULL,
    event     jsonb NOT NULL,
    parked_at timestamptz NOT NULL
);
CREATE INDEX parked_events_case ON parked_events (case_id);

-- Urgency, language and quiet hours per delivery; leases let workers send without holding
-- a transaction open.
ALTER TABLE deliveries
    ADD COLUMN source_event_type text,
    ADD COLUMN urgency     text NOT NULL DEFAULT 'low',
    ADD COLUMN locale      text NOT NULL DEFAULT 'en',
    ADD COLUMN quiet_tz    text,
    ADD COLUMN lease_until timestamptz,
    ADD COLUMN lease_token text,
    ADD COLUMN updated_at  timestamptz,
    ADD CONSTRAINT deliveries_status_known
        CHECK (status IN ('pending', 'sent', 'deferred', 'retrying', 'failed'));
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (channel, due_at)
    WHERE status IN ('pending', 'retrying', 'deferred');
