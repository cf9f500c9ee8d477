-- pgbench reference for scripts/bench.sh: one "task" = exactly the SQL droverd's queue runs for
-- get_next_task (queue_claim: one autocommit statement) plus update_task_status(completed)
-- (queue_update_status: one autocommit statement that locks the row, checks the lease, sets
-- the state, writes the activity row and settles the agent), copied from server/store/queue.c
-- and server/store/queue_update.c with droverd's parameters filled in (completed, no error, the
-- default back-off 10 s / 3600 s). Keep them in step when either changes.
-- Each pgbench client acts as its own agent: 00000000-0000-4000-8000-<client_id, 12 digits>
-- (scripts/bench.sh creates them). The only addition is `tid`/`epoch`/`agent` in the claim's
-- output, which pgbench needs for \gset (droverd reads them from the task JSON instead).
\set lease 120
WITH ag AS (SELECT id, status FROM agents
             WHERE id = ('00000000-0000-4000-8000-' || lpad(:client_id::text, 12, '0'))::uuid
             FOR UPDATE),
 pick AS (SELECT t.id FROM tasks t WHERE t.state = 'backlog' AND t.run_after <= now()
  AND EXISTS (SELECT 1 FROM ag WHERE ag.status NOT IN ('draining', 'offline'))
  ORDER BY t.priority DESC, t.id FOR UPDATE SKIP LOCKED LIMIT 1),
 c AS (UPDATE tasks t SET state = 'in_progress', agent_id = (SELECT id FROM ag),
  attempt = t.attempt + 1, lease_epoch = t.lease_epoch + 1,
  lease_expires_at = now() + make_interval(secs => :lease),
  started_at = now(), updated_at = now(), reason = NULL
  FROM pick WHERE t.id = pick.id RETURNING t.*),
 busy AS (UPDATE agents SET status = 'busy', last_heartbeat_at = now(), updated_at = now()
  WHERE id IN (SELECT agent_id FROM c)),
 act AS (INSERT INTO activity (task_id, agent_id, kind, message, metadata)
  SELECT id, agent_id, 'state', 'backlog -> in_progress', jsonb_build_object('from',
  'backlog', 'to', 'in_progress', 'epoch', lease_epoch, 'attempt', attempt) FROM c)
 SELECT (SELECT status FROM ag) AS agent_status,
  (SELECT jsonb_build_object('id', t.id, 'title', t.title, 'description', t.description,
   'state', t.state, 'priority', t.priority, 'model', t.model, 'attempt', t.attempt,
   'max_attempts', t.max_attempts, 'lease_epoch', t.lease_epoch,
   'lease_expires_at', t.lease_expires_at, 'run_after', t.run_after, 'branch', t.branch,
   'base_branch', coalesce(t.base_branch, p.default_branch, 'main'),
   'agent_id', t.agent_id, 'parent_id', t.parent_id, 'timeout_seconds', t.timeout_seconds,
   'reason', t.reason, 'question', t.question, 'context', t.context,
   'last_error', t.last_error, 'pull_request', t.pull_request, 'result', t.result,
   'budget', t.budget, 'usage', t.usage, 'idempotency_key', t.idempotency_key,
   'created_at', t.created_at, 'started_at', t.started_at, 'finished_at', t.finished_at,
   'updated_at', t.updated_at, 'is_group', t.is_group,
   'duration_seconds', CASE WHEN t.started_at IS NULL THEN NULL ELSE
     extract(epoch FROM coalesce(t.finished_at, now()) - t.started_at) END,
   'project', jsonb_build_object('id', p.id, 'name', p.name,
     'repoUrl', coalesce(t.repo_url, p.repo_url),
     'defaultBranch', coalesce(t.base_branch, p.default_branch, 'main')))::text
   FROM c t LEFT JOIN projects p ON p.id = t.project_id) AS task,
  (SELECT id FROM c) AS tid, (SELECT lease_epoch FROM c) AS epoch,
  (SELECT agent_id FROM c) AS agent
\gset
WITH l AS (SELECT id, state, agent_id, lease_epoch, attempt, max_attempts,
  lease_expires_at IS NOT NULL AND lease_expires_at <= now() AS expired
  FROM tasks WHERE id = :tid FOR UPDATE),
 ok AS (SELECT l.*, CASE WHEN r.retry THEN 'backlog' ELSE 'completed' END AS to_state,
  CASE WHEN r.retry THEN least(3600::bigint, 10::bigint * power(2, least(greatest(
   l.attempt - 1, 0), 40))::bigint) ELSE 0 END AS delay
  FROM l, LATERAL (SELECT 'completed' = 'failed' AND NOT false::bool AND l.attempt < l.max_attempts
   AS retry) r
  WHERE l.state = 'in_progress' AND l.agent_id = :agent::uuid AND l.lease_epoch = :epoch::bigint
  AND NOT l.expired),
 u AS (UPDATE tasks t SET state = ok.to_state, updated_at = now(), lease_expires_at = NULL,
  finished_at = CASE WHEN ok.to_state IN ('completed', 'failed', 'cancelled') THEN now() END,
  last_error = coalesce(NULL, t.last_error),
  question = CASE WHEN ok.to_state = 'needs_input' THEN NULL ELSE t.question END,
  reason = CASE WHEN ok.to_state = 'needs_input' THEN coalesce(NULL, 'question') END,
  result = coalesce(NULL::jsonb, t.result),
  run_after = CASE WHEN ok.to_state = 'backlog'
   THEN now() + make_interval(secs => ok.delay) ELSE t.run_after END
  FROM ok WHERE t.id = ok.id
  RETURNING t.*, ok.state AS from_state, ok.to_state, ok.delay, ok.lease_epoch AS old_epoch,
   ok.attempt AS old_attempt),
 act AS (INSERT INTO activity (task_id, agent_id, kind, level, message, metadata)
  SELECT u.id, :agent::uuid, 'state', CASE WHEN u.to_state = 'failed' THEN 'error' ELSE 'info' END,
   left(u.from_state || ' -> ' || u.to_state || coalesce(': ' || NULL, ''), 4000),
   jsonb_build_object('from', u.from_state, 'to', u.to_state, 'epoch', u.old_epoch,
    'attempt', u.old_attempt)
   || CASE WHEN NULL IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('error', NULL) END
   || CASE WHEN u.to_state = 'needs_input' THEN jsonb_build_object('reason',
    coalesce(NULL, 'question')) ELSE '{}'::jsonb END
   || CASE WHEN u.delay > 0 THEN jsonb_build_object('retry_in_seconds', u.delay)
    ELSE '{}'::jsonb END FROM u),
 settle AS (UPDATE agents a SET status = CASE WHEN EXISTS (SELECT 1 FROM tasks x WHERE
  x.agent_id = a.id AND x.state = 'in_progress' AND x.id NOT IN (SELECT id FROM u))
  THEN 'busy' ELSE 'idle' END, updated_at = now()
  WHERE a.id IN (SELECT agent_id FROM u) AND a.status IN ('idle', 'busy', 'initializing'))
 SELECT l.state, l.agent_id, l.lease_epoch, l.expired,
  (SELECT jsonb_build_object('id', t.id, 'title', t.title, 'description', t.description,
   'state', t.state, 'priority', t.priority, 'model', t.model, 'attempt', t.attempt,
   'max_attempts', t.max_attempts, 'lease_epoch', t.lease_epoch,
   'lease_expires_at', t.lease_expires_at, 'run_after', t.run_after, 'branch', t.branch,
   'base_branch', coalesce(t.base_branch, p.default_branch, 'main'),
   'agent_id', t.agent_id, 'parent_id', t.parent_id, 'timeout_seconds', t.timeout_seconds,
   'reason', t.reason, 'question', t.question, 'context', t.context,
   'last_error', t.last_error, 'pull_request', t.pull_request, 'result', t.result,
   'budget', t.budget, 'usage', t.usage, 'idempotency_key', t.idempotency_key,
   'created_at', t.created_at, 'started_at', t.started_at, 'finished_at', t.finished_at,
   'updated_at', t.updated_at, 'is_group', t.is_group,
   'duration_seconds', CASE WHEN t.started_at IS NULL THEN NULL ELSE
     extract(epoch FROM coalesce(t.finished_at, now()) - t.started_at) END,
   'project', jsonb_build_object('id', p.id, 'name', p.name,
     'repoUrl', coalesce(t.repo_url, p.repo_url),
     'defaultBranch', coalesce(t.base_branch, p.default_branch, 'main')))::text FROM u t LEFT JOIN projects p ON p.id = t.project_id)
  AS task FROM l;
