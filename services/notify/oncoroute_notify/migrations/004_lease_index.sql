-- Rows leased to a worker: the earliest lease to run out (a crashed worker's rows go again
-- then) is found without reading every row waiting.
CREATE INDEX deliveries_leased ON deliveries (channel, lease_until)
    WHERE lease_until IS NOT NULL;
