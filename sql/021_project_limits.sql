-- A project's limit on tasks in progress at once: settings.max_in_progress (a non-negative
-- integer; absent = no limit). The claim statement honours it without over-claiming: it takes
-- the project row's lock through a guarded no-op UPDATE (`in_progress < limit`), which a
-- concurrent claim re-evaluates against the committed row once the lock is released
-- (READ COMMITTED's re-check), and the trigger below keeps projects.in_progress exact for
-- limited projects. Unlimited projects' rows are never locked by claims.

CREATE FUNCTION drover_project_limit(settings jsonb) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN settings->>'max_in_progress' ~ '^[0-9]{1,6}$'
                THEN (settings->>'max_in_progress')::integer END
$$;

ALTER TABLE projects ADD COLUMN in_progress integer NOT NULL DEFAULT 0;
UPDATE projects p SET in_progress =
    (SELECT count(*) FROM tasks t WHERE t.project_id = p.id AND t.state = 'in_progress');

CREATE FUNCTION drover_project_in_progress() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.state = 'in_progress' AND OLD.project_id IS NOT NULL
       AND (TG_OP = 'DELETE' OR NEW.state <> 'in_progress'
            OR NEW.project_id IS DISTINCT FROM OLD.project_id) THEN
        UPDATE projects SET in_progress = greatest(in_progress - 1, 0)
            WHERE id = OLD.project_id AND drover_project_limit(settings) IS NOT NULL;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.state = 'in_progress' AND NEW.project_id IS NOT NULL
       AND (TG_OP = 'INSERT' OR OLD.state <> 'in_progress'
            OR NEW.project_id IS DISTINCT FROM OLD.project_id) THEN
        UPDATE projects SET in_progress = in_progress + 1
            WHERE id = NEW.project_id AND drover_project_limit(settings) IS NOT NULL;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER tasks_project_in_progress AFTER INSERT OR DELETE OR UPDATE OF state, project_id
    ON tasks FOR EACH ROW EXECUTE FUNCTION drover_project_in_progress();

-- Limited projects only are counted, so a limit set later starts from the true count.
CREATE FUNCTION drover_project_limit_set() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF drover_project_limit(NEW.settings) IS NOT NULL
       AND drover_project_limit(OLD.settings) IS NULL THEN
        NEW.in_progress := (SELECT count(*) FROM tasks t
                            WHERE t.project_id = NEW.id AND t.state = 'in_progress');
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER projects_limit_set BEFORE UPDATE OF settings ON projects
    FOR EACH ROW EXECUTE FUNCTION drover_project_limit_set();
