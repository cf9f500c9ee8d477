-- Server keys of the MCP layer, shared by every droverd replica: `task_handles` signs the task
-- handles of the 2026-07-28 tasks extension (io.modelcontextprotocol/tasks), so a taskId
-- cannot be guessed or forged and a tasks/get, tasks/update or tasks/cancel can only name a
-- task droverd handed out. 256 bits from gen_random_uuid() (PostgreSQL's strong random source,
-- 122 random bits per UUID, three of them). Never sent anywhere; rotate by updating the row
-- (handles given out before then stop resolving).
CREATE TABLE mcp_keys (
    name       text PRIMARY KEY,
    secret     text NOT NULL CHECK (length(secret) >= 64),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO mcp_keys (name, secret)
VALUES ('task_handles', replace(gen_random_uuid()::text || gen_random_uuid()::text ||
                                gen_random_uuid()::text, '-', ''));
