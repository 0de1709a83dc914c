CREATE TABLE specialists (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    email         text,
    roles         text[] NOT NULL DEFAULT '{}',
    tumor_groups  text[] NOT NULL DEFAULT '{}',
    max_active    int NOT NULL CHECK (max_active >= 0),
    active_count  int NOT NULL DEFAULT 0 CHECK (active_count >= 0),
    languages     text[] NOT NULL DEFAULT '{}',
    regions       text[] NOT NULL DEFAULT '{}',
    institution   text,
    timezone      text NOT NULL DEFAULT 'UTC',
    active        boolean NOT NULL DEFAULT true,
    last_assigned_at timestamptz,
    -- the capacity guard: never over capacity, whatever the number of matcher processes
    CONSTRAINT within_capacity CHECK (active_count <= max_active)
);
CREATE INDEX specialists_groups ON specialists USING gin (tumor_groups);

CREATE TABLE seats (
    case_id     text NOT NULL,
    seat        text NOT NULL,
    role        text NOT NULL,
    tumor_group text,
    tier        text NOT NULL,
    status      text NOT NULL,          -- waiting | offered | accepted | completed | released
    first_opinion_physician text,
    first_opinion_institution text,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (case_id, seat)
);
CREATE INDEX seats_waiting ON seats (tier, created_at) WHERE status = 'waiting';

CREATE TABLE assignments (
    assignment_id text PRIMARY KEY,
    case_id       text NOT NULL,
    seat          text NOT NULL,
    specialist_id text NOT NULL REFERENCES specialists (id),
    status        text NOT NULL,        -- offered | accepted | declined | expired | completed | released
    offered_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    FOREIGN KEY (case_id, seat) REFERENCES seats (case_id, seat)
);
-- never fill one seat twice
CREATE UNIQUE INDEX one_live_assignment_per_seat ON assignments (case_id, seat)
    WHERE status IN ('offered', 'accepted', 'completed');
CREATE INDEX assignments_specialist ON assignments (specialist_id, status);
