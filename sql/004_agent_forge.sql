-- Version 4: what the agent runtime and the forge backends record. The preview deployment a
-- task triggered (trigger_preview_deploy) keeps the URL the project's preview webhook answered.
ALTER TABLE tasks ADD COLUMN preview_url text CHECK (length(preview_url) <= 2048);
