-- Heartbeats answered from memory (svc_hbmem): each droverd keeps, per agent, the answer the
-- database last gave its heartbeat and answers the next ones from it until it is told the
-- answer may have changed. This is that telling. The payload is the agent's id: a droverd that
-- hears it drops that agent's cached answer, so the agent's next heartbeat reads the tables
-- again (a spurious or foreign-schema notification only costs one such read; channels are
-- database-wide). Notifications with one channel and payload in a transaction fold into one.
CREATE FUNCTION drover_notify_hb_task() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A task left an agent's hands (cancelled, reaped, requeued, finished, stopped by its
    -- budget, moved to another agent), or reached them, or its budget changed while held.
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state = 'in_progress' AND OLD.agent_id IS NOT NULL
    THEN
        PERFORM pg_notify('drover_hb_agent', OLD.agent_id::text);
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.state = 'in_progress' AND NEW.agent_id IS NOT NULL
       AND NEW.agent_id IS DISTINCT FROM OLD.agent_id THEN
        PERFORM pg_notify('drover_hb_agent', NEW.agent_id::text);
    END IF;
    RETURN NULL;
END
$$;
-- Column lists keep a heartbeat's own UPDATE (lease_expires_at, usage) from firing it.
CREATE TRIGGER tasks_hb_update AFTER UPDATE OF state, agent_id, lease_epoch, budget ON tasks
    FOR EACH ROW WHEN (OLD.state = 'in_progress' OR NEW.state = 'in_progress')
    EXECUTE FUNCTION drover_notify_hb_task();
CREATE TRIGGER tasks_hb_delete AFTER DELETE ON tasks
    FOR EACH ROW WHEN (OLD.state = 'in_progress') EXECUTE FUNCTION drover_notify_hb_task();

-- An agent entering or leaving draining, unusable or offline, or deleted: the cached answer's
-- agent status (or the agent itself) is gone. A heartbeat's own busy/idle flips do not fire it.
CREATE FUNCTION drover_notify_hb_agent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('drover_hb_agent', OLD.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER agents_hb_update AFTER UPDATE OF status ON agents
    FOR EACH ROW WHEN (NEW.status IS DISTINCT FROM OLD.status
                       AND (NEW.status NOT IN ('idle', 'busy', 'initializing')
                            OR OLD.status NOT IN ('idle', 'busy', 'initializing')))
    EXECUTE FUNCTION drover_notify_hb_agent();
CREATE TRIGGER agents_hb_delete AFTER DELETE ON agents
    FOR EACH ROW EXECUTE FUNCTION drover_notify_hb_agent();
