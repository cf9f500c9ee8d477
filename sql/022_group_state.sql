-- A fan-out group's state is derived from its children (it used to stay in_progress forever):
--   any child backlog / in_progress / needs_input      -> in_progress (work goes on)
--   else any child completed                           -> completed   (one was accepted)
--   else any child ready_to_test                       -> ready_to_test (candidates to review)
--   else every child cancelled                         -> cancelled
--   else                                               -> failed
-- A cancelled group stays cancelled (its cancellation cancels its children in the same
-- transaction). Each derived change is an activity row of the group's.
CREATE FUNCTION drover_group_state() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cur text;
    want text;
BEGIN
    IF NEW.parent_id IS NULL OR NEW.state = OLD.state THEN
        RETURN NULL;
    END IF;
    SELECT state INTO cur FROM tasks WHERE id = NEW.parent_id AND is_group FOR UPDATE;
    IF cur IS NULL OR cur = 'cancelled' THEN
        RETURN NULL;
    END IF;
    SELECT CASE
             WHEN bool_or(state IN ('backlog', 'in_progress', 'needs_input')) THEN 'in_progress'
             WHEN bool_or(state = 'completed') THEN 'completed'
             WHEN bool_or(state = 'ready_to_test') THEN 'ready_to_test'
             WHEN bool_and(state = 'cancelled') THEN 'cancelled'
             ELSE 'failed' END
      INTO want FROM tasks WHERE parent_id = NEW.parent_id;
    IF want IS NULL OR want = cur THEN
        RETURN NULL;
    END IF;
    UPDATE tasks SET state = want, updated_at = now(),
           finished_at = CASE WHEN want IN ('completed', 'failed', 'cancelled') THEN now() END
     WHERE id = NEW.parent_id;
    INSERT INTO activity (task_id, kind, message, metadata)
    VALUES (NEW.parent_id, 'state', cur || ' -> ' || want || ': derived from its children',
            jsonb_build_object('from', cur, 'to', want, 'by', 'fan-out children',
                               'child', NEW.id));
    RETURN NULL;
END
$$;
CREATE TRIGGER tasks_group_state AFTER UPDATE OF state ON tasks
    FOR EACH ROW WHEN (NEW.parent_id IS NOT NULL) EXECUTE FUNCTION drover_group_state();
