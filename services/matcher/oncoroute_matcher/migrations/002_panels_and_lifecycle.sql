-- The full roster shape, panels, the offer lifecycle, absences and API tokens.

ALTER TABLE specialists
    ADD COLUMN phone text,
    ADD COLUMN cancer_types jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN working_hours text,
    ADD COLUMN on_call boolean NOT NULL DEFAULT false,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX specialists_roles ON specialists USING gin (roles);

-- What the matcher keeps of each case: enough to choose reviewers without intake.
CREATE TABLE cases (
    case_id          text PRIMARY KEY,
    tier             text NOT NULL,
    fast_progressing boolean NOT NULL DEFAULT false,
    tumor_group      text,
    icd10            text,
    patient_region   text,
    report_language  text,
    first_opinion_physician   text,
    first_opinion_institution text,
    opened_at        timestamptz NOT NULL,
    deadline         timestamptz NOT NULL,
    routable         boolean NOT NULL DEFAULT true,  -- false while records are awaited
    status           text NOT NULL DEFAULT 'open',   -- open | opinion_ready | closed
    updated_at       timestamptz NOT NULL
);
-- cases the skeleton opened before this table existed
INSERT INTO cases (case_id, tier, tumor_group, first_opinion_physician,
                   first_opinion_institution, opened_at, deadline, updated_at)
SELECT DISTINCT ON (case_id) case_id, tier, tumor_group, first_opinion_physician,
       first_opinion_institution, created_at, created_at + interval '48 hours', created_at
FROM seats ORDER BY case_id, created_at;

ALTER TABLE seats
    ADD COLUMN roles text[] NOT NULL DEFAULT '{}',   -- any of these; empty: any role
    ADD COLUMN require_expert boolean NOT NULL DEFAULT false,
    ADD COLUMN fast_progressing boolean NOT NULL DEFAULT false,
    ADD COLUMN deadline timestamptz,
    ADD COLUMN unmatched_reasons jsonb,               -- last reasons emitted in case.unmatched
    ADD COLUMN unmatched_since timestamptz,
    ADD COLUMN updated_at timestamptz;
UPDATE seats SET deadline = created_at + interval '48 hours' WHERE deadline IS NULL;
ALTER TABLE seats ADD CONSTRAINT seats_case FOREIGN KEY (case_id) REFERENCES cases (case_id);
DROP INDEX IF EXISTS seats_waiting;
-- the waiting queue: fast-progressing first, then the soonest deadline, then the oldest
CREATE INDEX seats_waiting ON seats (fast_progressing DESC, deadline, created_at)
    WHERE status = 'waiting';

ALTER TABLE assignments
    ADD COLUMN reason text,
    ADD COLUMN accepted_at timestamptz,
    ADD COLUMN completed_at timestamptz,
    ADD COLUMN diagnosis text,
    ADD COLUMN treatment_plan text,
    ADD COLUMN summary text,
    ADD COLUMN report_uri text;
-- one person is offered a case at most once: never two seats, never re-offered after a
-- decline or an expiry
CREATE UNIQUE INDEX one_offer_per_reviewer_per_case ON assignments (case_id, specialist_id);

CREATE TABLE absences (
    absence_id    text PRIMARY KEY,
    specialist_id text NOT NULL REFERENCES specialists (id),
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    reason        text,
    created_at    timestamptz NOT NULL,
    CONSTRAINT absence_has_length CHECK (ends_at > starts_at)
);
CREATE INDEX absences_by_specialist ON absences (specialist_id, ends_at);

-- API tokens: only their SHA-256 is stored; the token itself is shown once, at issue.
CREATE TABLE api_tokens (
    token_hash    text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('operator', 'specialist')),
    specialist_id text REFERENCES specialists (id),
    label         text,
    created_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    CONSTRAINT specialist_token_names_one CHECK ((kind = 'specialist') = (specialist_id IS NOT NULL))
);
