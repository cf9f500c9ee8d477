/* git diff --numstat and the patch of the task's branch against its base. The task thread. */
#include "runner_diff.h"
#include "core/buf.h"
#include "core/mem.h"
#include "runner_git.h"

#include <stdlib.h>
#include <string.h>

struct runner_diff_acc {
    json_t *files;
    struct buf patch;
    int truncated;
};

/* "<added>\t<removed>\t<path>" ("-\t-\t<path>" for a binary file). */
static void runner_diff_numstat(void *ud, const char *line)
{
    struct runner_diff_acc *a = ud;
    const char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;

    if (!t2 || !t2[1])
        return;
    json_array_append_new(
        a->files,
        json_pack("{s:s,s:o,s:o}", "path", t2 + 1, "added",
                  line[0] == '-' ? json_null() : json_integer(strtoll(line, NULL, 10)), "removed",
                  t1[1] == '-' ? json_null() : json_integer(strtoll(t1 + 1, NULL, 10))));
}

static void runner_diff_patch(void *ud, const char *line)
{
    struct runner_diff_acc *a = ud;

    if (a->truncated)
        return;
    if (buf_appendf(&a->patch, "%s\n", line) < 0)
        a->truncated = 1;
}

int runner_diff(char **git_env, const char *repo, const char *base, json_t **files, char **diff,
                int *truncated)
{
    char *ref = mem_printf("refs/remotes/origin/%s", base);
    const char *numstat[] = {"diff", "--numstat", "--no-renames", ref, "HEAD", "--", NULL};
    const char *patch[] = {"diff", "--no-color", "--no-renames", ref, "HEAD", "--", NULL};
    struct runner_diff_acc a = {json_array(), {0}, 0};
    struct proc_result res;
    struct err err = {0};
    int rc = -1;

    buf_init(&a.patch, RUNNER_DIFF_MAX);
    if (runner_git(git_env, repo, numstat, runner_diff_numstat, &a, &res, &err) < 0 ||
        res.exit_code != 0)
        goto out;
    if (runner_git(git_env, repo, patch, runner_diff_patch, &a, &res, &err) < 0 ||
        res.exit_code != 0)
        goto out;
    *files = a.files;
    a.files = NULL;
    *diff = buf_take(&a.patch, NULL);
    *truncated = a.truncated;
    rc = 0;
out:
    json_decref(a.files);
    buf_clear(&a.patch);
    free(ref);
    return rc;
}
