-- Retention (droverd --retention-days, --retention-interval): activity of finished tasks and
-- old scale decisions are deleted in small batches. Which replica prunes, and when, is decided
-- here: each run claims its row with one UPDATE (the first replica whose sweep finds it due),
-- so replicas never prune at the same time and a restart does not prune again at once.
CREATE TABLE maintenance_runs (
    name        text PRIMARY KEY,
    last_run_at timestamptz NOT NULL DEFAULT '-infinity',
    replica     text,
    last_result jsonb
);
INSERT INTO maintenance_runs (name) VALUES ('retention');
