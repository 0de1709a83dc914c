-- Processed event ids are forgotten once no copy of the event can come back (the topics
-- keep events 7 days; INBOX_RETENTION_DAYS, default 14): pruned by age.
CREATE INDEX inbox_processed_at ON inbox (processed_at);
