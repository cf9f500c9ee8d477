-- An agent that has no usable coding command (no model credentials, no `claude`, a command
-- that cannot start) takes no task and says why: status 'unusable' with unusable_reason, kept
-- after the pool retires it so the dashboard, the API and droverctl can show the cause.
ALTER TABLE agents DROP CONSTRAINT agents_status_check;
ALTER TABLE agents ADD CONSTRAINT agents_status_check
    CHECK (status IN ('initializing', 'idle', 'busy', 'draining', 'offline', 'unusable'));
ALTER TABLE agents ADD COLUMN unusable_reason text CHECK (length(unusable_reason) <= 1000);
