-- The autoscaler's load-drop signal. drover_task_ready already wakes the pool leader when a
-- task becomes runnable; nothing woke it when load fell (a task finishing, failing for good,
-- being cancelled, or being claimed out of the backlog), so a scale-down was noticed only at
-- the next --pool-tick. The payload is the schema (channels are database-wide, so deployments
-- and test schemas sharing a database would wake each other's leaders); notifications with the
-- same channel and payload in one transaction are folded into one, and the leader debounces
-- what reaches it.
CREATE FUNCTION drover_notify_task_done() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('drover_task_done', current_schema());
    RETURN NULL;
END
$$;
-- Leaving `backlog` or `in_progress` for anything but `backlog` (which tasks_ready announces).
CREATE TRIGGER tasks_done AFTER UPDATE OF state ON tasks
    FOR EACH ROW WHEN (OLD.state IN ('backlog', 'in_progress') AND NEW.state <> OLD.state
                       AND NEW.state <> 'backlog')
    EXECUTE FUNCTION drover_notify_task_done();

-- Decisions taken on that signal are recorded with their own trigger.
ALTER TABLE scale_events DROP CONSTRAINT scale_events_trigger_check;
ALTER TABLE scale_events ADD CONSTRAINT scale_events_trigger_check
    CHECK (trigger IN ('tick', 'task_ready', 'task_done', 'retry', 'api'));
