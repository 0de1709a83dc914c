-- Transactional outbox: events written in the same transaction as the state they describe.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    topic       text NOT NULL,
    key         text,
    value       bytea NOT NULL,
    headers     jsonb NOT NULL DEFAULT '[]'::jsonb,
    event_id    text,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at timestamptz
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;

-- Wake the relay on commit rather than polling.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{schema}_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Inbox: ids of events already processed, stored with their effects.
CREATE TABLE inbox (
    consumer     text NOT NULL,
    event_id     text NOT NULL,
    topic        text NOT NULL,
    partition    int NOT NULL,
    "offset"     bigint NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer, event_id)
);
