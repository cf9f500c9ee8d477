-- A project's per-repository limit on tasks in progress at once:
-- settings.max_in_progress_per_repo (a non-negative integer; absent = no limit), counted per
-- repository a task works on (its own repo_url, else the project's). Same scheme as sql/021:
-- the claim statement takes the (project, repository) counter row's lock through a guarded
-- upsert (`in_progress < limit`, re-evaluated against the latest committed row when it had to
-- wait), and the trigger below keeps the counters exact for limited projects only.

CREATE FUNCTION drover_repo_limit(settings jsonb) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN settings->>'max_in_progress_per_repo' ~ '^[0-9]{1,6}$'
                THEN (settings->>'max_in_progress_per_repo')::integer END
$$;

CREATE TABLE repo_in_progress (
    project_id  bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    repo_url    text NOT NULL,
    in_progress integer NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, repo_url)
);

CREATE FUNCTION drover_repo_in_progress() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    lim integer;
    repo text;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.state = 'in_progress' AND OLD.project_id IS NOT NULL
       AND (TG_OP = 'DELETE' OR NEW.state <> 'in_progress'
            OR NEW.project_id IS DISTINCT FROM OLD.project_id) THEN
        SELECT drover_repo_limit(settings), coalesce(OLD.repo_url, repo_url) INTO lim, repo
          FROM projects WHERE id = OLD.project_id;
        IF lim IS NOT NULL THEN
            UPDATE repo_in_progress SET in_progress = greatest(in_progress - 1, 0)
             WHERE project_id = OLD.project_id AND repo_url = repo;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.state = 'in_progress' AND NEW.project_id IS NOT NULL
       AND (TG_OP = 'INSERT' OR OLD.state <> 'in_progress'
            OR NEW.project_id IS DISTINCT FROM OLD.project_id) THEN
        SELECT drover_repo_limit(settings), coalesce(NEW.repo_url, repo_url) INTO lim, repo
          FROM projects WHERE id = NEW.project_id;
        IF lim IS NOT NULL THEN
            INSERT INTO repo_in_progress (project_id, repo_url, in_progress)
            VALUES (NEW.project_id, repo, 1)
            ON CONFLICT (project_id, repo_url)
            DO UPDATE SET in_progress = repo_in_progress.in_progress + 1;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER tasks_repo_in_progress AFTER INSERT OR DELETE OR UPDATE OF state, project_id
    ON tasks FOR EACH ROW EXECUTE FUNCTION drover_repo_in_progress();

-- Only limited projects are counted, so a limit set later starts from the true counts.
CREATE FUNCTION drover_repo_limit_set() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF drover_repo_limit(NEW.settings) IS NOT NULL
       AND drover_repo_limit(OLD.settings) IS NULL THEN
        DELETE FROM repo_in_progress WHERE project_id = NEW.id;
        INSERT INTO repo_in_progress (project_id, repo_url, in_progress)
        SELECT NEW.id, coalesce(t.repo_url, NEW.repo_url), count(*)
          FROM tasks t WHERE t.project_id = NEW.id AND t.state = 'in_progress'
         GROUP BY 2;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER projects_repo_limit_set AFTER UPDATE OF settings ON projects
    FOR EACH ROW EXECUTE FUNCTION drover_repo_limit_set();
