-- The board's reads at millions of cases on record (bench/growth.py): each must cost what the
-- open cases and the recent past cost, not the whole history.
-- Workload panel: the latest offer of each reviewer with live work (its name and capacity);
-- without this, one scan of every offer ever made per reviewer.
CREATE INDEX offers_reviewer_latest ON offers (reviewer_id, offered_at DESC);
-- Escalation feed (latest fired steps), breaches in the last 24 hours and the summary's
-- breaches over its window: read newest first from here instead of scanning every timer.
CREATE INDEX timers_fired ON timers (fired_at DESC) WHERE fired_at IS NOT NULL;
