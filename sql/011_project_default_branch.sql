-- A project created without a default branch has none (NULL): its tasks start from the
-- repository's own default branch, which drover-agent asks the remote for (`git ls-remote
-- --symref`), so a `master` repository works. Projects that have one keep it.
ALTER TABLE projects ALTER COLUMN default_branch DROP NOT NULL;
ALTER TABLE projects ALTER COLUMN default_branch DROP DEFAULT;
