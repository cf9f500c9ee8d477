-- Notifications out: endpoints people configure, and a durable outbox the task's own
-- transaction fills (a trigger on the state change), delivered afterwards by droverd's outbox
-- thread with retries and back-off, so a slow or failing receiver never holds up the queue.
CREATE TABLE notify_endpoints (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
    url         text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2048),
    format      text NOT NULL DEFAULT 'generic' CHECK (format IN ('generic', 'slack')),
    events      text[] NOT NULL
                DEFAULT '{needs_input,ready_to_test,failed,completed,budget}'
                CHECK (events <@ '{needs_input,ready_to_test,failed,completed,budget,cancelled}'
                       AND cardinality(events) > 0),
    project_id  bigint REFERENCES projects (id) ON DELETE CASCADE,
    created_by  text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    endpoint_id     bigint NOT NULL REFERENCES notify_endpoints (id) ON DELETE CASCADE,
    event           text NOT NULL,
    task_id         bigint REFERENCES tasks (id) ON DELETE SET NULL,
    payload         jsonb NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     integer,
    last_error      text CHECK (length(last_error) <= 1000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX outbox_task_idx ON outbox (task_id, id);

CREATE FUNCTION drover_outbox_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ev text;
BEGIN
    ev := CASE NEW.state
            WHEN 'needs_input' THEN CASE WHEN NEW.reason = 'budget' THEN 'budget'
                                         ELSE 'needs_input' END
            WHEN 'ready_to_test' THEN 'ready_to_test'
            WHEN 'failed' THEN 'failed'
            WHEN 'completed' THEN 'completed'
            WHEN 'cancelled' THEN 'cancelled' END;
    IF ev IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO outbox (endpoint_id, event, task_id, payload)
    SELECT e.id, ev, NEW.id,
           jsonb_build_object('type', 'task.' || ev, 'timestamp', now(), 'data',
             jsonb_build_object('task', jsonb_build_object(
               'id', NEW.id, 'title', NEW.title, 'state', NEW.state, 'reason', NEW.reason,
               'question', NEW.question, 'last_error', NEW.last_error, 'branch', NEW.branch,
               'pull_request', NEW.pull_request, 'project_id', NEW.project_id,
               'attempt', NEW.attempt, 'usage', NEW.usage)))
      FROM notify_endpoints e
     WHERE ev = ANY (e.events) AND (e.project_id IS NULL OR e.project_id = NEW.project_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER tasks_outbox AFTER UPDATE OF state ON tasks
    FOR EACH ROW WHEN (NEW.state IS DISTINCT FROM OLD.state) EXECUTE FUNCTION drover_outbox_enqueue();
