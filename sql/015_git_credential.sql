-- get_git_credential hands a task's git credential to its holder once per lease: the agent
-- fetches it right after the claim, before any repository code runs, so a coding command that
-- holds the agent's token (and knows the task and epoch from its environment) is refused when
-- it asks for it too. The epoch of the last hand-out; NULL = never.
ALTER TABLE tasks ADD COLUMN git_credential_epoch bigint;
