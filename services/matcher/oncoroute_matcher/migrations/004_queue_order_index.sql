-- The waiting queue in its full order (ties by case and seat), so a sweep walks the index
-- and stops at its limit instead of reading and sorting every waiting seat; an index scan
-- also marks the entries of seats offered since as dead, so later sweeps skip them.
DROP INDEX IF EXISTS seats_waiting;
CREATE INDEX seats_waiting ON seats (fast_progressing DESC, deadline, created_at, case_id, seat)
    WHERE status = 'waiting';

-- A queue table: every seat is updated out of the queue soon after it joins, and a bitmap
-- scan still visits the index entries of those seats until a vacuum removes them, so vacuum
-- and analyse it after a few thousand changes, not after a fifth of all seats ever.
ALTER TABLE seats SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,
                       autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 5000);
