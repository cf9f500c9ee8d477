/* `droverd selftest`: one enqueue -> claim -> complete round trip through the queue. Main thread.
 */
#include "cmd/cmd_selftest.h"
#include "cmd/cmd_db.h"
#include "core/err.h"
#include "store/agents.h"
#include "store/db.h"
#include "store/queue.h"

#include <stdio.h>
#include <string.h>

/*
 * One enqueue -> claim -> complete round trip through the real queue functions, printed step by
 * step: proves a database is migrated and the queue works. The task and agent it creates are
 * marked as such and left in place (they are history like any other).
 */
int cmd_selftest(int argc, char **argv)
{
    const char *url = argc > 2 && strcmp(argv[1], "--database-url") == 0 ? argv[2] : NULL;
    struct model_task_new nt = {.title = "droverd selftest",
                                .description = "round trip check made by droverd selftest",
                                .repo_url = "selftest://none",
                                .priority = 1000};
    struct queue_counts counts;
    struct queue_opts qo;
    struct db db;
    struct err err = {0};
    json_t *task = NULL, *claimed = NULL, *done = NULL;
    char agent[37];
    int rc = 1;

    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || (!url && argc > 1))) {
        printf("usage: droverd selftest [--database-url URL]\n\n"
               "Enqueues a task, registers an agent, claims the task and completes it.\n");
        return strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    queue_opts_default(&qo);
    if (db_open(&db, cmd_database_url(url), &err) < 0) {
        fprintf(stderr, "droverd selftest: %s\n", err.msg);
        return 1;
    }
    /* Never take real work: run only when nothing else is runnable. */
    if (queue_counts(&db, &counts, &err) < 0)
        goto fail;
    if (counts.backlog > 0) {
        err_set(&err, ERR_CONFLICT, "%lld task(s) are runnable; selftest needs an idle queue",
                counts.backlog);
        goto fail;
    }
    if (queue_enqueue(&db, &nt, &task, NULL, &err) < 0)
        goto fail;
    printf("enqueued  task %lld (%s)\n", (long long)json_integer_value(json_object_get(task, "id")),
           json_string_value(json_object_get(task, "state")));
    if (agents_create(&db, "selftest", "none", agent, &err) < 0)
        goto fail;
    printf("registered agent %s\n", agent);
    if (queue_claim(&db, &qo, agent, &claimed, &err) < 0)
        goto fail;
    if (!claimed || !json_equal(json_object_get(claimed, "id"), json_object_get(task, "id"))) {
        /* Only possible if another task became runnable since the check above. */
        err_set(&err, ERR_CONFLICT, "another task was claimed instead; re-run on an idle queue");
        goto fail;
    }
    printf("claimed   task %lld (%s, attempt %lld, lease epoch %lld)\n",
           (long long)json_integer_value(json_object_get(claimed, "id")),
           json_string_value(json_object_get(claimed, "state")),
           (long long)json_integer_value(json_object_get(claimed, "attempt")),
           (long long)json_integer_value(json_object_get(claimed, "lease_epoch")));
    if (queue_update_status(&db, &qo, agent, json_integer_value(json_object_get(claimed, "id")),
                            json_integer_value(json_object_get(claimed, "lease_epoch")),
                            "completed", NULL, &done, &err) < 0)
        goto fail;
    printf("completed task %lld (%s)\n", (long long)json_integer_value(json_object_get(done, "id")),
           json_string_value(json_object_get(done, "state")));
    if (agents_mark_offline(&db, agent, "selftest finished", &err) < 0)
        goto fail;
    printf("selftest ok\n");
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "droverd selftest: %s\n", err.msg);
out:
    json_decref(task);
    json_decref(claimed);
    json_decref(done);
    db_close(&db);
    return rc;
}
