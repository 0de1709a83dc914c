CREATE TABLE clocks (
    case_id     text PRIMARY KEY,
    tier        text NOT NULL,
    tumor_group text,
    state       text NOT NULL,          -- running | paused | met | cancelled
    opened_at   timestamptz NOT NULL,
    started_at  timestamptz,
    deadline    timestamptz,
    turnaround_seconds double precision NOT NULL
);

-- Every step a clock will take, each fired exactly once (unique per clock and step).
CREATE TABLE timers (
    case_id   text NOT NULL REFERENCES clocks (case_id),
    step      text NOT NULL,
    due_at    timestamptz NOT NULL,
    fired_at  timestamptz,
    PRIMARY KEY (case_id, step)
);
CREATE INDEX timers_due ON timers (due_at) WHERE fired_at IS NULL;
