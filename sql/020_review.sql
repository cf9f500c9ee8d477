-- After the pull request: who submitted a task (a developer may act on its own tasks), the
-- developer scope, and the forge webhook deliveries already applied (replay safety).

-- 'task' is listed for the task-scoped tokens of the agent loop's migrations, so that this
-- constraint, whichever migration runs last, keeps every scope the server knows.
ALTER TABLE api_tokens DROP CONSTRAINT IF EXISTS api_tokens_scope_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scope_check
    CHECK (scope IN ('agent', 'task', 'developer', 'operator', 'admin'));

ALTER TABLE tasks ADD COLUMN submitted_by text CHECK (length(submitted_by) <= 200);
ALTER TABLE tasks ADD COLUMN submitted_by_token bigint;

-- One row per forge delivery applied: a delivery id (or, when a forge sends none or re-sends
-- under a new id, the body's SHA-256) seen twice is acknowledged and changes nothing.
CREATE TABLE forge_deliveries (
    id           bigserial PRIMARY KEY,
    project_id   bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    forge        text NOT NULL CHECK (forge IN ('gitea', 'gitlab', 'github')),
    delivery_id  text NOT NULL CHECK (length(delivery_id) BETWEEN 1 AND 200),
    body_sha256  text NOT NULL CHECK (length(body_sha256) = 64),
    event        text NOT NULL CHECK (length(event) <= 200),
    task_id      bigint REFERENCES tasks (id) ON DELETE SET NULL,
    outcome      text NOT NULL CHECK (length(outcome) <= 200),
    received_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, delivery_id),
    UNIQUE (project_id, body_sha256)
);

-- Review comments received from a forge for a task's pull request, kept until a rework
-- carries them into the prompt (consumed_at), so the agent reads the whole thread.
CREATE TABLE review_comments (
    id           bigserial PRIMARY KEY,
    task_id      bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    author       text CHECK (length(author) <= 200),
    body         text NOT NULL CHECK (length(body) <= 65536),
    path         text CHECK (length(path) <= 4096),
    line         integer,
    kind         text NOT NULL CHECK (kind IN ('review', 'comment', 'inline')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    consumed_at  timestamptz
);
CREATE INDEX review_comments_open_idx ON review_comments (task_id, id) WHERE consumed_at IS NULL;
