-- Operators' surface: fan-out groups, scheduled tasks (cron) fired once per slot, and
-- Alertmanager groups deduplicated by their group key.

-- A fan-out parent only groups its children: it is never claimed (it is stored in_progress
-- with no agent, no lease and no start time, so neither the claim, the reaper nor the timeout
-- sweep touches it) and its shown state is derived from its children.
ALTER TABLE tasks ADD COLUMN is_group boolean NOT NULL DEFAULT false;

CREATE TABLE schedules (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
    project_id  bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    cron        text NOT NULL CHECK (length(cron) BETWEEN 9 AND 200),
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    prompt      text NOT NULL CHECK (length(prompt) BETWEEN 1 AND 100000),
    priority    integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN -1000 AND 1000),
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per (schedule, slot): the primary key is what makes two replicas fire a slot once.
CREATE TABLE schedule_fires (
    schedule_id bigint NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    slot        timestamptz NOT NULL,
    task_id     bigint REFERENCES tasks (id) ON DELETE SET NULL,
    fired_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schedule_id, slot)
);

-- The task opened for an Alertmanager group; a new one only when the last one has finished.
CREATE TABLE alert_groups (
    group_key   text PRIMARY KEY CHECK (length(group_key) BETWEEN 1 AND 4096),
    project_id  bigint REFERENCES projects (id) ON DELETE CASCADE,
    task_id     bigint REFERENCES tasks (id) ON DELETE CASCADE,
    status      text NOT NULL,
    received    integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
