-- A fan-out's superseded siblings have their pull requests closed on the forge. The accept's
-- transaction queues one forge_comments row per sibling that recorded an open pull request
-- (kind 'pr_close': comment `body` on pull request `issue`, then close it), leased to the
-- accepting request, which makes the forge calls once the transaction has committed. A row
-- that request did not settle (the forge failed, droverd stopped) is retried by the outbox
-- thread like any link-back comment. commented_at keeps a retry from commenting twice.
ALTER TABLE forge_comments ADD COLUMN kind text NOT NULL DEFAULT 'comment'
    CHECK (kind IN ('comment', 'pr_close'));
ALTER TABLE forge_comments ADD COLUMN commented_at timestamptz;
