-- The waiting queue in its full order (ties by case and seat), so a sweep walks the index
-- and stops at its limit instead of reading and sorting every waiting seat; an index scan
-- also marks the entries of seats offered since as dead, so later sweeps skip them.
DROP INDEX IF EXISTS seats_waiting;
CREATE INDEX seats_waiting ON seats (fast_progressing DESC, deadline, created_at, case_id, seat)
    WHERE status = 'waiting';
