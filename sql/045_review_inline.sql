-- A review's inline comments, read back from the forge's REST API after its webhook (which
-- carries only the review's body): where each sits in the diff (diff_hunk, the forge's
-- position), its link, and the forge's own comment id, so that the same comment reaching
-- Drover twice (its own webhook, then the review's fetch; a redelivery) is kept once.
ALTER TABLE review_comments ADD COLUMN forge_id text CHECK (length(forge_id) BETWEEN 1 AND 200);
ALTER TABLE review_comments ADD COLUMN diff_hunk text CHECK (length(diff_hunk) <= 65536);
ALTER TABLE review_comments ADD COLUMN position integer;
ALTER TABLE review_comments ADD COLUMN url text CHECK (length(url) <= 2000);
CREATE UNIQUE INDEX review_comments_forge_idx ON review_comments (task_id, forge_id)
    WHERE forge_id IS NOT NULL;
