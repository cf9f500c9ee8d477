-- Drover schema, version 1: projects, agents, tasks, activity, pool settings, API tokens,
-- MCP sessions. Applied by `droverd migrate` in one transaction under an advisory lock.
-- Every object is unqualified so the whole schema can live in any search_path (the tests
-- give each run its own schema).

CREATE TABLE projects (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL UNIQUE
                    CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
    repo_url        text NOT NULL CHECK (length(repo_url) BETWEEN 1 AND 2048),
    default_branch  text NOT NULL DEFAULT 'main' CHECK (length(default_branch) BETWEEN 1 AND 255),
    forge_kind      text NOT NULL DEFAULT 'git'
                    CHECK (forge_kind IN ('git', 'gitea', 'gitlab', 'github')),
    forge_api_url   text CHECK (length(forge_api_url) <= 2048),
    forge_repo_path text CHECK (length(forge_repo_path) <= 1024),
    settings        jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agents (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name              text CHECK (length(name) <= 200),
    status            text NOT NULL DEFAULT 'initializing'
                      CHECK (status IN ('initializing', 'idle', 'busy', 'draining', 'offline')),
    backend           text,                 -- process | kubernetes | none
    pod_name          text,
    pod_uid           text,
    offline_reason    text,
    usage             jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    last_heartbeat_at timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agents_status_idx ON agents (status);

CREATE TABLE tasks (
    id               bigserial PRIMARY KEY,
    project_id       bigint REFERENCES projects (id) ON DELETE RESTRICT,
    parent_id        bigint REFERENCES tasks (id) ON DELETE CASCADE,
    repo_url         text CHECK (length(repo_url) <= 2048),    -- when no project is named
    base_branch      text CHECK (length(base_branch) <= 255),
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    description      text NOT NULL DEFAULT '' CHECK (length(description) <= 100000),
    state            text NOT NULL DEFAULT 'backlog'
                     CHECK (state IN ('backlog', 'in_progress', 'ready_to_test', 'needs_input',
                                      'completed', 'failed', 'cancelled')),
    priority         integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN -1000 AND 1000),
    model            text CHECK (length(model) <= 200),
    agent_id         uuid REFERENCES agents (id) ON DELETE SET NULL,
    attempt          integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 100),
    lease_epoch      bigint NOT NULL DEFAULT 0,
    lease_expires_at timestamptz,
    run_after        timestamptz NOT NULL DEFAULT now(),
    timeout_seconds  integer NOT NULL DEFAULT 7200 CHECK (timeout_seconds BETWEEN 1 AND 604800),
    started_at       timestamptz,
    finished_at      timestamptz,
    branch           text CHECK (length(branch) <= 255),
    pull_request     jsonb,
    reason           text,                 -- needs_input: question | timeout | budget
    question         text CHECK (length(question) <= 10000),
    context          jsonb NOT NULL DEFAULT '[]',   -- answers and notes carried to the next attempt
    last_error       text,
    result           jsonb,
    idempotency_key  text UNIQUE CHECK (length(idempotency_key) <= 200),
    budget           jsonb,                -- {"tokens": N} and/or {"usd": X}
    usage            jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- The claim reads only this partial index: runnable rows by priority, then age.
CREATE INDEX tasks_claim_idx ON tasks (priority DESC, id) WHERE state = 'backlog';
-- Heartbeats and the reaper find an agent's or an expired lease's rows here.
CREATE INDEX tasks_in_progress_idx ON tasks (agent_id) WHERE state = 'in_progress';
CREATE INDEX tasks_state_idx ON tasks (state, id);
CREATE INDEX tasks_project_idx ON tasks (project_id, id);
CREATE INDEX tasks_parent_idx ON tasks (parent_id) WHERE parent_id IS NOT NULL;

-- Append-only: one row per log line or state change, so a task's history can be replayed.
CREATE TABLE activity (
    id        bigserial PRIMARY KEY,
    task_id   bigint REFERENCES tasks (id) ON DELETE CASCADE,
    agent_id  uuid,
    ts        timestamptz NOT NULL DEFAULT now(),
    kind      text NOT NULL CHECK (kind IN ('log', 'state', 'system')),
    level     text NOT NULL DEFAULT 'info'
              CHECK (level IN ('debug', 'info', 'notice', 'warning', 'error')),
    message   text NOT NULL CHECK (length(message) <= 65536),
    metadata  jsonb
);
CREATE INDEX activity_task_idx ON activity (task_id, id);

CREATE TABLE pool_settings (
    id             integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    min_agents     integer NOT NULL DEFAULT 2 CHECK (min_agents >= 0),
    max_agents     integer NOT NULL DEFAULT 10 CHECK (max_agents >= 0),
    pinned_target  integer CHECK (pinned_target >= 0),
    pinned_until   timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    updated_by     text,
    CHECK (min_agents <= max_agents)
);
INSERT INTO pool_settings (id) VALUES (1);

CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    scope        text NOT NULL CHECK (scope IN ('agent', 'operator', 'admin')),
    token_hash   bytea NOT NULL UNIQUE,
    agent_id     uuid REFERENCES agents (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CHECK ((scope = 'agent') = (agent_id IS NOT NULL))
);

-- MCP sessions live here so that any droverd replica recognises them.
CREATE TABLE mcp_sessions (
    id               text PRIMARY KEY,
    token_id         bigint REFERENCES api_tokens (id) ON DELETE CASCADE,
    protocol_version text NOT NULL,
    client_info      jsonb,
    log_level        text NOT NULL DEFAULT 'info',
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz NOT NULL DEFAULT now()
);

-- A task that becomes runnable wakes long-polling agents on every replica. NOTIFY is only a
-- hint (delivered at commit); the table stays the truth.
CREATE FUNCTION drover_notify_ready() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('drover_task_ready', NEW.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER tasks_ready AFTER INSERT OR UPDATE OF state ON tasks
    FOR EACH ROW WHEN (NEW.state = 'backlog') EXECUTE FUNCTION drover_notify_ready();

-- New activity wakes followers of logs and events: one NOTIFY per statement, carrying the
-- highest new id, so a batch of log lines costs one notification.
CREATE FUNCTION drover_notify_activity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('drover_activity', (SELECT max(id) FROM new_rows)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER activity_notify AFTER INSERT ON activity
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION drover_notify_activity();
