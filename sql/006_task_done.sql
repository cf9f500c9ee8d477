-- The autoscaler's load-drop signal. drover_task_ready already wakes the pool leader when a
-- task becomes runnable; nothing woke it when load fell (a task finishing, failing for good,
-- being cancelled, or being claimed out of the backlog), so a scale-down was noticed only at
-- the next --pool-tick. One constant payload: notifications with the same channel and payload
-- in one transaction are folded into one, and the leader debounces what reaches it.
CREATE FUNCTION drover_notify_task_done() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('drover_task_done', '');
    RETURN NULL;
END
$$;
-- Leaving `backlog` or `in_progress` for anything but `backlog` (which tasks_ready announces).
CREATE TRIGGER tasks_done AFTER UPDATE OF state ON tasks
    FOR EACH ROW WHEN (OLD.state IN ('backlog', 'in_progress') AND NEW.state <> OLD.state
                       AND NEW.state <> 'backlog')
    EXECUTE FUNCTION drover_notify_task_done();
