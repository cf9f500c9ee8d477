-- The people on the forge behind a task that a forge webhook created or sent back: the forge
-- login of the issue's author (forge_author) and of the person whose comment, label or review
-- asked Drover to act (forge_requester: the issue's labeller or commenter, later the reviewer
-- who asked for a rework). Both are logins on the project's own forge, as its payload names
-- them, so a pull request Drover opens can ask that person for review without any mapping.
ALTER TABLE tasks ADD COLUMN forge_author text CHECK (length(forge_author) BETWEEN 1 AND 200);
ALTER TABLE tasks ADD COLUMN forge_requester text
    CHECK (length(forge_requester) BETWEEN 1 AND 200);
