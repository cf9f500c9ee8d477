-- Tiered autonomy (docs/autonomy.md): a project's policy over what its coding agents may do,
-- and the approvals a person gives or refuses for the actions the policy leaves to them.
--
-- A policy is never edited in place: each PUT adds a version, so what a task ran under can be
-- read back. The newest version is the one in force; one with enabled = false turns it off.
CREATE TABLE project_policies (
    project_id  bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version     integer NOT NULL CHECK (version > 0),
    policy      jsonb NOT NULL,  -- normalized by core/autonomy.c: every default filled in
    enabled     boolean NOT NULL,
    approval_timeout_seconds integer NOT NULL CHECK (approval_timeout_seconds BETWEEN 10 AND 86400),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, version)
);

-- One row per action the policy did not simply allow: denied at once (decided_by 'policy'),
-- or waiting for a person (pending) until approved, denied or expired. The lease it was asked
-- under is kept so a later lease of the same task cannot pick up an earlier lease's answer.
CREATE TABLE approvals (
    id             bigserial PRIMARY KEY,
    task_id        bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    agent_id       uuid,
    lease_epoch    bigint NOT NULL,
    policy_version integer NOT NULL,
    tool_name      text NOT NULL CHECK (length(tool_name) <= 200),
    tool_input     jsonb NOT NULL,
    action         text NOT NULL CHECK (length(action) <= 1000),  -- e.g. Bash(kubectl apply -f x)
    rule           text NOT NULL,                                 -- what decided: a rule or a category
    state          text NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired')),
    decided_by     text,
    reason         text CHECK (length(reason) <= 2000),
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    decided_at     timestamptz,
    CHECK ((state = 'pending') = (decided_at IS NULL))
);
CREATE INDEX approvals_task_idx ON approvals (task_id, id);
CREATE INDEX approvals_pending_idx ON approvals (expires_at) WHERE state = 'pending';

-- A person is waiting to be asked: notification endpoints may carry an `approval` event
-- (task.approval), written with the pending approval in the same statement, as the task
-- events are (sql/023). New endpoints get it by default; existing ones keep their lists.
ALTER TABLE notify_endpoints DROP CONSTRAINT notify_endpoints_events_check;
ALTER TABLE notify_endpoints ADD CONSTRAINT notify_endpoints_events_check
    CHECK (events <@ '{needs_input,ready_to_test,failed,completed,budget,cancelled,approval}'
           AND cardinality(events) > 0);
ALTER TABLE notify_endpoints ALTER COLUMN events
    SET DEFAULT '{needs_input,ready_to_test,failed,completed,budget,approval}';

CREATE FUNCTION drover_outbox_approval() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (endpoint_id, event, task_id, payload)
    SELECT e.id, 'approval', t.id,
           jsonb_build_object('type', 'task.approval', 'timestamp', now(), 'data',
             jsonb_build_object('task', jsonb_build_object(
               'id', t.id, 'title', t.title, 'state', t.state, 'branch', t.branch,
               'project_id', t.project_id, 'attempt', t.attempt),
             'approval', jsonb_build_object(
               'id', NEW.id, 'action', NEW.action, 'rule', NEW.rule,
               'tool_name', NEW.tool_name, 'expires_at', NEW.expires_at)))
      FROM tasks t, notify_endpoints e
     WHERE t.id = NEW.task_id AND 'approval' = ANY (e.events)
       AND (e.project_id IS NULL OR e.project_id = t.project_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER approvals_outbox AFTER INSERT ON approvals
    FOR EACH ROW WHEN (NEW.state = 'pending') EXECUTE FUNCTION drover_outbox_approval();
