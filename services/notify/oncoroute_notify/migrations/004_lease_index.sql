-- Rows leased to a worker: the earliest lease to run out (a crashed worker's rows go again
-- then) is found without reading every row waiting.
CREATE INDEX deliveries_leased ON deliveries (channel, lease_until)
    WHERE lease_until IS NOT NULL;

-- A queue table: every delivery is leased and then recorded soon after it is planned, and a
-- bitmap scan still visits the index entries of those rows until a vacuum removes them, so
-- vacuum and analyse it after a few thousand changes, not after a fifth of all deliveries ever.
ALTER TABLE deliveries SET (autovacuum_vacuum_scale_factor = 0,
                            autovacuum_vacuum_threshold = 5000,
                            autovacuum_analyze_scale_factor = 0,
                            autovacuum_analyze_threshold = 5000);
