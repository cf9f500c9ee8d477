-- Issues as triggers, linked back: a task opened for a forge issue remembers it
-- (tasks.forge_issue), and the comments Drover posts on that issue (the task's link, later its
-- pull request) wait here until the outbox thread has posted them, with retries like the
-- notifications'.
ALTER TABLE tasks ADD COLUMN forge_issue bigint CHECK (forge_issue > 0);

CREATE TABLE forge_comments (
    id              bigserial PRIMARY KEY,
    task_id         bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    issue           bigint NOT NULL CHECK (issue > 0),
    body            text NOT NULL CHECK (length(body) BETWEEN 1 AND 65536),
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'posted', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text CHECK (length(last_error) <= 1000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    posted_at       timestamptz
);
CREATE INDEX forge_comments_due_idx ON forge_comments (next_attempt_at, id) WHERE state = 'pending';

-- "Later its PR": once the task of an issue records its pull request, say so on the issue.
CREATE FUNCTION drover_issue_pr_comment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.forge_issue IS NOT NULL AND OLD.pull_request IS NULL
       AND NEW.pull_request->>'url' IS NOT NULL THEN
        INSERT INTO forge_comments (task_id, issue, body)
        VALUES (NEW.id, NEW.forge_issue,
                'Drover task #' || NEW.id || ' opened a pull request for this issue: '
                || (NEW.pull_request->>'url'));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER tasks_issue_pr_comment AFTER UPDATE OF pull_request ON tasks
    FOR EACH ROW EXECUTE FUNCTION drover_issue_pr_comment();
