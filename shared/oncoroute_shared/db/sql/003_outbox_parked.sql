-- Outbox rows the producer refused for good (larger than the broker takes, or not a record
-- at all): kept here with the reason, so nothing is lost and the rows after them go on.
-- An operator requeues them once the cause is fixed (README, "Parked, not stuck").
CREATE TABLE outbox_parked (
    id          bigint PRIMARY KEY,
    topic       text NOT NULL,
    key         text,
    value       bytea NOT NULL,
    headers     jsonb NOT NULL,
    event_id    text,
    created_at  timestamptz NOT NULL,
    reason      text NOT NULL,
    parked_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
