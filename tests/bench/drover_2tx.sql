-- pgbench reference for scripts/bench.sh: one "task" = exactly the SQL droverd's queue runs for
-- get_next_task (queue_claim: one autocommit statement) plus update_task_status(completed)
-- (queue_update_status: BEGIN; lock the row; set the state; write the activity row; settle the
-- agent; COMMIT), copied from server/store/queue.c. Keep the two in step when queue.c changes.
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
BEGIN;
SELECT state, agent_id, lease_epoch, attempt, max_attempts,
 lease_expires_at IS NOT NULL AND lease_expires_at <= now() AS expired
 FROM tasks WHERE id = :tid FOR UPDATE;
WITH u AS (UPDATE tasks t SET state = 'completed', updated_at = now(),
  lease_expires_at = CASE WHEN 'completed' = 'in_progress' THEN t.lease_expires_at END,
  finished_at = CASE WHEN 'completed' IN ('completed', 'failed', 'cancelled') THEN now() END,
  last_error = coalesce(NULL, t.last_error),
  question = CASE WHEN 'completed' = 'needs_input' THEN NULL ELSE t.question END,
  reason = CASE WHEN 'completed' = 'needs_input' THEN coalesce(NULL, 'question') ELSE NULL END,
  result = coalesce(NULL::jsonb, t.result),
  run_after = CASE WHEN 'completed' = 'backlog' THEN now() + make_interval(secs => 0)
   ELSE t.run_after END,
  context = CASE WHEN NULL::jsonb IS NULL THEN t.context ELSE t.context || NULL::jsonb END,
  attempt = CASE WHEN false THEN 0 ELSE t.attempt END
  WHERE t.id = :tid RETURNING t.*)
 SELECT jsonb_build_object('id', t.id, 'title', t.title, 'description', t.description,
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
     'defaultBranch', coalesce(t.base_branch, p.default_branch, 'main')))::text AS task
 FROM u t LEFT JOIN projects p ON p.id = t.project_id;
INSERT INTO activity (task_id, agent_id, kind, level, message, metadata)
 VALUES (:tid, :agent, 'state', 'info', 'in_progress -> completed',
  jsonb_build_object('from', 'in_progress', 'to', 'completed', 'epoch', :epoch::bigint, 'attempt', 1));
UPDATE agents a SET status = CASE WHEN EXISTS (SELECT 1 FROM tasks x WHERE
 x.agent_id = a.id AND x.state = 'in_progress' AND x.id NOT IN (SELECT NULL::bigint WHERE false))
 THEN 'busy' ELSE 'idle' END, updated_at = now()
 WHERE a.id IN (:agent::uuid) AND a.status IN ('idle', 'busy', 'initializing');
COMMIT;
