-- The dashboard's history (GET /api/history): what the pool charts showed before the page was
-- opened, kept --history-days (default 7) and pruned with the retention run.
--
-- One row per minute, written by the first replica whose sweep finds the minute due
-- (maintenance_runs 'history'); the primary key makes a second write of the same minute a no-op.
CREATE TABLE history_samples (
    ts          timestamptz PRIMARY KEY,
    backlog     integer NOT NULL,  -- runnable now
    delayed     integer NOT NULL,  -- waiting out a back-off
    in_progress integer NOT NULL,
    live_agents integer NOT NULL,  -- initializing, idle, busy, draining
    busy_agents integer NOT NULL,
    target      integer,           -- the autoscaler's latest target (NULL before any decision)
    min_agents  integer NOT NULL,
    max_agents  integer NOT NULL,
    finished    integer NOT NULL,  -- tasks completed in the minute before ts
    failed      integer NOT NULL   -- tasks that failed for good in the minute before ts
);
INSERT INTO maintenance_runs (name) VALUES ('history');

-- Heartbeat gaps: a heartbeat that comes more than 75 s after the agent's previous one (2.5
-- times the default 30 s interval) records the silence, so the dashboard can draw each agent's
-- timeline. From a trigger, so no heartbeat path can forget it.
CREATE TABLE agent_gaps (
    id        bigserial PRIMARY KEY,
    agent_id  uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    gap_start timestamptz NOT NULL,
    gap_end   timestamptz NOT NULL
);
CREATE INDEX agent_gaps_end_idx ON agent_gaps (gap_end);

CREATE FUNCTION drover_agent_gap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.last_heartbeat_at IS NOT NULL AND NEW.last_heartbeat_at IS NOT NULL
       AND NEW.last_heartbeat_at - OLD.last_heartbeat_at > interval '75 seconds' THEN
        INSERT INTO agent_gaps (agent_id, gap_start, gap_end)
            VALUES (NEW.id, OLD.last_heartbeat_at, NEW.last_heartbeat_at);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER agents_heartbeat_gap AFTER UPDATE OF last_heartbeat_at ON agents
    FOR EACH ROW WHEN (NEW.last_heartbeat_at IS DISTINCT FROM OLD.last_heartbeat_at)
    EXECUTE FUNCTION drover_agent_gap();

-- The sample counts the tasks that finished in the last minute: without this index that is a
-- scan of every task ever run, once a minute.
CREATE INDEX tasks_finished_at_idx ON tasks (finished_at) WHERE finished_at IS NOT NULL;
