-- What the operator board shows that the clocks alone do not: the submitting system of a
-- case, who holds each seat (name, tumour group, capacity when the matcher sends it) and the
-- seats nobody could take, with the matcher's reasons.
ALTER TABLE clocks ADD COLUMN source text;
ALTER TABLE offers
    ADD COLUMN tumor_group text,
    ADD COLUMN reviewer_name text,
    ADD COLUMN max_active int;
CREATE INDEX offers_live ON offers (reviewer_id) WHERE status IN ('offered', 'accepted');

CREATE TABLE unmatched_seats (
    case_id     text NOT NULL,
    seat        text NOT NULL,
    tier        text,
    tumor_group text,
    reasons     jsonb NOT NULL,
    summary     text,
    since       timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (case_id, seat)
);

-- Wake the board's stream when anything it shows changes (one notification per statement;
-- PostgreSQL folds identical ones in a transaction).
CREATE FUNCTION board_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{schema}_board', '');
    RETURN NULL;
END $$;
CREATE TRIGGER board_clocks AFTER INSERT OR UPDATE OR DELETE ON clocks
    FOR EACH STATEMENT EXECUTE FUNCTION board_changed();
CREATE TRIGGER board_offers AFTER INSERT OR UPDATE OR DELETE ON offers
    FOR EACH STATEMENT EXECUTE FUNCTION board_changed();
CREATE TRIGGER board_unmatched AFTER INSERT OR UPDATE OR DELETE ON unmatched_seats
    FOR EACH STATEMENT EXECUTE FUNCTION board_changed();
CREATE TRIGGER board_timers AFTER INSERT OR UPDATE OF fired_at ON timers
    FOR EACH STATEMENT EXECUTE FUNCTION board_changed();
