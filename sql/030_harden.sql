-- Server hardening (issue 13).
--
-- Usage totals only go up. A heartbeat's usage used to replace the stored object, so an agent
-- could reset its token count below its budget ({"tokens": 5} after 90) or store a string that
-- never trips. Each reported key now keeps the larger of the stored and the reported number;
-- keys the report leaves out keep their stored value. The C side refuses anything but
-- non-negative numbers before this runs; the function still ignores non-numbers defensively.
CREATE FUNCTION drover_usage_merge(old jsonb, new jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(old, '{}'::jsonb) || coalesce((
        SELECT jsonb_object_agg(e.key,
            CASE WHEN jsonb_typeof(old -> e.key) = 'number'
                      AND (old ->> e.key)::numeric > (e.value #>> '{}')::numeric
                 THEN old -> e.key ELSE e.value END)
          FROM jsonb_each(new) AS e
         WHERE jsonb_typeof(e.value) = 'number' AND (e.value #>> '{}')::numeric >= 0), '{}'::jsonb)
$$;

-- What the request that created a task with an idempotency key asked for (an md5 of its
-- fields), so that reusing the key with a different body is a 409 instead of silently
-- answering with the other task. NULL on rows made before this migration: those match.
ALTER TABLE tasks ADD COLUMN idem_fingerprint text;

-- When the task last left `in_progress` (completed, failed, needs_input, reaped, cancelled...):
-- log_activity from the agent that held it is accepted only for a short grace after this
-- (store/queue.c, QUEUE_LOG_GRACE_SECONDS), so a former holder cannot write into a task's
-- history forever. A trigger, so that no transition can forget it.
ALTER TABLE tasks ADD COLUMN released_at timestamptz;
CREATE FUNCTION drover_task_released() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.released_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER tasks_released BEFORE UPDATE OF state ON tasks
    FOR EACH ROW WHEN (OLD.state = 'in_progress' AND NEW.state <> 'in_progress')
    EXECUTE FUNCTION drover_task_released();
