-- The trace of the event that created a seat, so offers made later by the dispatcher
-- (a background loop, not a consumer) continue the case's trace.
ALTER TABLE seats ADD COLUMN trace_context jsonb NOT NULL DEFAULT '{}'::jsonb;
