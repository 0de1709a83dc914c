-- One delivery per (source event, recipient, channel), ever.
CREATE TABLE deliveries (
    delivery_id     text PRIMARY KEY,
    source_event_id text NOT NULL,
    case_id         text NOT NULL,
    audience        text NOT NULL,
    channel         text NOT NULL,
    recipient       text NOT NULL,
    template        text NOT NULL,
    context         jsonb NOT NULL,
    status          text NOT NULL,   -- pending | sent | deferred | retrying | failed
    attempts        int NOT NULL DEFAULT 0,
    last_error      text,
    due_at          timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    UNIQUE (source_event_id, recipient, channel)
);
CREATE INDEX deliveries_due ON deliveries (due_at) WHERE status IN ('pending', 'retrying', 'deferred');
CREATE INDEX deliveries_case ON deliveries (case_id);

CREATE FUNCTION deliveries_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('notify_deliveries', '');
    RETURN NULL;
END $$;
CREATE TRIGGER deliveries_notify AFTER INSERT ON deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_notify();
