-- Clocks that pause, stop and remember how they ended.
ALTER TABLE clocks
    ADD COLUMN case_status text NOT NULL DEFAULT 'ready',
    ADD COLUMN paused_at timestamptz,
    ADD COLUMN paused_seconds double precision NOT NULL DEFAULT 0,
    ADD COLUMN stopped_at timestamptz,
    ADD COLUMN on_time boolean,
    ADD COLUMN actual_turnaround_seconds double precision;
CREATE INDEX clocks_open ON clocks (state) WHERE state IN ('waiting', 'running', 'paused');
CREATE INDEX clocks_stopped ON clocks (stopped_at) WHERE stopped_at IS NOT NULL;

-- Acceptance timers may be armed before the case's clock exists (topics are consumed
-- independently), so a timer no longer needs its clock row.
ALTER TABLE timers DROP CONSTRAINT IF EXISTS timers_case_id_fkey;
CREATE INDEX timers_case ON timers (case_id);

-- Offers the matcher made: the reviewers of a case and what an acceptance timer is about.
CREATE TABLE offers (
    assignment_id text PRIMARY KEY,
    case_id       text NOT NULL,
    seat          text NOT NULL,
    reviewer_id   text NOT NULL,
    tier          text NOT NULL,
    status        text NOT NULL,          -- offered | accepted | declined | completed | expired | released
    offered_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX offers_case ON offers (case_id);

-- What happened to a clock besides its timers firing (those are in `timers`).
CREATE TABLE clock_history (
    id      bigserial PRIMARY KEY,
    case_id text NOT NULL,
    at      timestamptz NOT NULL,
    what    text NOT NULL,
    detail  jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX clock_history_case ON clock_history (case_id, id);

-- Wake the timer loops when a timer is armed: the payload is the soonest new due time
-- (epoch seconds), so a loop sleeping until later wakes early and one sleeping until sooner
-- ignores it. One notification per statement, not per row.
CREATE FUNCTION timers_armed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    soonest timestamptz;
BEGIN
    SELECT min(due_at) INTO soonest FROM armed WHERE fired_at IS NULL;
    IF soonest IS NOT NULL THEN
        PERFORM pg_notify('{schema}_timers', extract(epoch FROM soonest)::text);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER timers_armed_insert AFTER INSERT ON timers
    REFERENCING NEW TABLE AS armed FOR EACH STATEMENT EXECUTE FUNCTION timers_armed();
CREATE TRIGGER timers_armed_update AFTER UPDATE ON timers
    REFERENCING NEW TABLE AS armed FOR EACH STATEMENT EXECUTE FUNCTION timers_armed();
