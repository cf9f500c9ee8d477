-- The autoscaler's memory: every decision with its inputs and reason (scale_events), every
-- change of the pool settings with who made it (pool_audit), and which replica leads
-- (pool_leader, refreshed every tick by the replica holding the advisory lock).

CREATE TABLE scale_events (
    id        bigserial PRIMARY KEY,
    ts        timestamptz NOT NULL DEFAULT now(),
    replica   text NOT NULL,
    trigger   text NOT NULL CHECK (trigger IN ('tick', 'task_ready', 'retry', 'api')),
    inputs    jsonb NOT NULL,          -- snapshot and settings the policy saw
    raw       integer NOT NULL,        -- the seed formula (or pin) before stabilisation
    target    integer NOT NULL,
    current   integer NOT NULL,
    creates   integer NOT NULL DEFAULT 0,
    deletes   jsonb NOT NULL DEFAULT '[]',   -- agent ids drained and deleted
    breaker_open boolean NOT NULL DEFAULT false,
    reason    text NOT NULL
);
CREATE INDEX scale_events_ts_idx ON scale_events (ts);

CREATE TABLE pool_audit (
    id        bigserial PRIMARY KEY,
    ts        timestamptz NOT NULL DEFAULT now(),
    actor     text NOT NULL,
    action    text NOT NULL CHECK (action IN ('settings', 'pin', 'unpin', 'start_agent',
                                              'stop_agent')),
    old_value jsonb,
    new_value jsonb
);

CREATE TABLE pool_leader (
    id          integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    replica     text NOT NULL,
    since       timestamptz NOT NULL DEFAULT now(),
    seen_at     timestamptz NOT NULL DEFAULT now()
);
