CREATE TABLE cases (
    case_id        text PRIMARY KEY,
    source         text NOT NULL,
    external_id    text NOT NULL,
    status         text NOT NULL,
    tier           text NOT NULL,
    tumor_group    text,
    fast_progressing boolean NOT NULL,
    rule           text NOT NULL,
    needs_triage   boolean NOT NULL,
    submission     jsonb NOT NULL,
    opened_at      timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    UNIQUE (source, external_id)
);
CREATE INDEX cases_status ON cases (status, opened_at);

-- Every event about a case, from every service, in the order intake learned of it.
CREATE TABLE timeline (
    seq        bigserial PRIMARY KEY,
    event_id   text NOT NULL UNIQUE,
    case_id    text NOT NULL,
    type       text NOT NULL,
    source     text NOT NULL,
    time       timestamptz NOT NULL,
    summary    jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX timeline_case ON timeline (case_id, seq);
