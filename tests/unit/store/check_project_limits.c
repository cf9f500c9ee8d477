/*
 * A project's max_in_progress, honoured by the claim statement itself: racing agents (one
 * connection each, released together) never hold more than the limit; a finished task frees a
 * slot; tasks of other projects are still claimed; a limit set later counts what already runs;
 * the counts the autoscaler reads (queue_counts.backlog, queue_runnable) include only claimable
 * tasks, the rest reported as held.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/agents.h"
#include "store/queue.h"
#include "fixture.h"
#include "testdb.h"

#define RACERS 12

struct racer {
    char agent[37];
    pthread_barrier_t *go;
    int claimed;
};

/* Claim until nothing is claimable, on a connection of its own. */
static void *racer_run(void *arg)
{
    struct racer *r = arg;
    struct db mine;
    struct err err = {0};

    testdb_connect(&mine);
    pthread_barrier_wait(r->go);
    for (int i = 0; i < 5; i++) {
        json_t *t = NULL;

        if (queue_claim(&mine, &fx.qo, r->agent, &t, &err) < 0)
            break;
        if (t)
            r->claimed++;
        json_decref(t);
    }
    db_close(&mine);
    return NULL;
}

static void race(struct racer *rs, int n)
{
    pthread_t th[RACERS];
    pthread_barrier_t go;

    pthread_barrier_init(&go, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        rs[i].go = &go;
        rs[i].claimed = 0;
        ck_assert_int_eq(pthread_create(&th[i], NULL, racer_run, &rs[i]), 0);
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
}

START_TEST(racing_claims_never_exceed_the_limit)
{
    struct racer rs[RACERS];
    struct queue_counts qc;
    struct err err = {0};
    int total = 0;
    long long limited;

    fixture_exec(
        "INSERT INTO projects (name, repo_url, settings) VALUES"
        " ('lim', 'file:///l.git', '{\"max_in_progress\": 3}'), ('free', 'file:///f.git', '{}')");
    limited = fixture_scalar("SELECT id FROM projects WHERE name = 'lim'");
    fixture_exec(
        "INSERT INTO tasks (project_id, title, priority) SELECT (SELECT id FROM projects WHERE"
        " name = 'lim'), 'l' || g, 10 FROM generate_series(1, 40) g");
    fixture_exec("INSERT INTO tasks (project_id, title) SELECT (SELECT id FROM projects WHERE"
                 " name = 'free'), 'f' || g FROM generate_series(1, 5) g");
    /* The autoscaler sees 3 + 5 claimable, 37 held. */
    ck_assert_int_eq(queue_counts(&fx.db, &qc, &err), 0);
    ck_assert_int_eq(qc.backlog, 8);
    ck_assert_int_eq(qc.held, 37);
    {
        int n = 0;

        ck_assert_int_eq(queue_runnable(&fx.db, 1000, &n, &err), 0);
        ck_assert_int_eq(n, 8);
    }
    for (int i = 0; i < RACERS; i++)
        ck_assert_int_eq(agents_create(&fx.db, "r", "none", rs[i].agent, &err), 0);
    race(rs, RACERS);
    for (int i = 0; i < RACERS; i++)
        total += rs[i].claimed;
    /* Exactly the limit of the limited project, and every task of the other one. */
    ck_assert_int_eq(
        fixture_scalar("SELECT count(*) FROM tasks t JOIN projects p ON p.id = t.project_id"
                       " WHERE p.name = 'lim' AND t.state = 'in_progress'"),
        3);
    ck_assert_int_eq(
        fixture_scalar("SELECT count(*) FROM tasks t JOIN projects p ON p.id = t.project_id"
                       " WHERE p.name = 'free' AND t.state = 'in_progress'"),
        5);
    ck_assert_int_eq(total, 8);
    ck_assert_int_eq(fixture_scalar("SELECT in_progress FROM projects WHERE name = 'lim'"), 3);
    ck_assert_int_eq(queue_counts(&fx.db, &qc, &err), 0);
    ck_assert_int_eq(qc.backlog, 0);
    ck_assert_int_eq(qc.held, 37);
    /* One finishes: one slot, one more claim, no more. */
    {
        char q[256];
        json_t *t = NULL, *out = NULL;
        long long id =
            fixture_scalar("SELECT t.id FROM tasks t JOIN projects p ON p.id = t.project_id"
                           " WHERE p.name = 'lim' AND t.state = 'in_progress' LIMIT 1");

        snprintf(q, sizeof(q), "SELECT agent_id FROM tasks WHERE id = %lld", id);
        {
            PGresult *r = PQexec(fx.db.conn, q);
            char agent[37], epoch[24];

            snprintf(agent, sizeof(agent), "%s", PQgetvalue(r, 0, 0));
            PQclear(r);
            snprintf(q, sizeof(q), "SELECT lease_epoch FROM tasks WHERE id = %lld", id);
            snprintf(epoch, sizeof(epoch), "%lld", fixture_scalar(q));
            ck_assert_int_eq(queue_update_status(&fx.db, &fx.qo, agent, id,
                                                 strtoll(epoch, NULL, 10), "completed", NULL, &out,
                                                 &err),
                             0);
            json_decref(out);
        }
        ck_assert_int_eq(fixture_scalar("SELECT in_progress FROM projects WHERE name = 'lim'"), 2);
        race(rs, RACERS);
        total = 0;
        for (int i = 0; i < RACERS; i++)
            total += rs[i].claimed;
        ck_assert_int_eq(total, 1);
        (void)t;
    }
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks WHERE state = 'in_progress' AND"
                                    " project_id = (SELECT id FROM projects WHERE name = 'lim')"),
                     3);
    (void)limited;
    /* Lifting the limit lets the rest run; setting it again counts what runs. */
    fixture_exec("UPDATE projects SET settings = '{}' WHERE name = 'lim'");
    race(rs, RACERS);
    ck_assert_int_gt(fixture_scalar("SELECT count(*) FROM tasks WHERE state = 'in_progress' AND"
                                    " project_id = (SELECT id FROM projects WHERE name = 'lim')"),
                     3);
    fixture_exec("UPDATE projects SET settings = '{\"max_in_progress\": 1}' WHERE name = 'lim'");
    ck_assert_int_eq(fixture_scalar("SELECT in_progress FROM projects WHERE name = 'lim'"),
                     fixture_scalar("SELECT count(*) FROM tasks WHERE state = 'in_progress' AND"
                                    " project_id = (SELECT id FROM projects WHERE name = 'lim')"));
}
END_TEST

START_TEST(a_zero_limit_pauses_a_project)
{
    char agent[37];
    struct err err = {0};
    json_t *t = NULL;

    fixture_exec("INSERT INTO projects (name, repo_url, settings) VALUES"
                 " ('paused', 'file:///p.git', '{\"max_in_progress\": 0}')");
    fixture_exec("INSERT INTO tasks (project_id, title) VALUES ((SELECT id FROM projects), 'x')");
    ck_assert_int_eq(agents_create(&fx.db, "a", "none", agent, &err), 0);
    ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, agent, &t, &err), 0);
    ck_assert_ptr_null(t);
    /* A malformed limit is no limit (the settings are free-form JSON). */
    fixture_exec("UPDATE projects SET settings = '{\"max_in_progress\": \"lots\"}'");
    ck_assert_int_eq(queue_claim(&fx.db, &fx.qo, agent, &t, &err), 0);
    ck_assert_ptr_nonnull(t);
    json_decref(t);
}
END_TEST

/* What the autoscaler reads: claimable backlog, and the rest held back by a limit. */
static void claimable_is(int want, int held)
{
    struct queue_counts qc;
    struct err err = {0};
    int n = -1;

    ck_assert_int_eq(queue_counts(&fx.db, &qc, &err), 0);
    ck_assert_int_eq(qc.backlog, want);
    ck_assert_int_eq(qc.held, held);
    ck_assert_int_eq(queue_runnable(&fx.db, 1000, &n, &err), 0);
    ck_assert_int_eq(n, want);
}

/*
 * max_in_progress_per_repo: racing agents never hold more than the limit on one repository
 * of the project (its own, or a task's repo_url), while other repositories of the same
 * project fill up to the same limit; a finished task frees a slot on its repository only.
 */
START_TEST(racing_claims_never_exceed_the_repository_limit)
{
    struct racer rs[RACERS];
    struct err err = {0};
    int total = 0;

    fixture_exec("INSERT INTO projects (name, repo_url, settings) VALUES"
                 " ('rl', 'file:///main.git', '{\"max_in_progress_per_repo\": 2}')");
    fixture_exec("INSERT INTO tasks (project_id, title) SELECT (SELECT id FROM projects), 'm' || g"
                 " FROM generate_series(1, 20) g");
    fixture_exec("INSERT INTO tasks (project_id, repo_url, title) SELECT (SELECT id FROM projects),"
                 " 'file:///other.git', 'o' || g FROM generate_series(1, 20) g");
    /* The autoscaler sees what the claims can take: 2 per repository, not 40. */
    claimable_is(4, 36);
    for (int i = 0; i < RACERS; i++)
        ck_assert_int_eq(agents_create(&fx.db, "r", "none", rs[i].agent, &err), 0);
    race(rs, RACERS);
    for (int i = 0; i < RACERS; i++)
        total += rs[i].claimed;
    claimable_is(0, 36);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks WHERE state = 'in_progress'"
                                    " AND repo_url IS NULL"),
                     2);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks WHERE state = 'in_progress'"
                                    " AND repo_url = 'file:///other.git'"),
                     2);
    ck_assert_int_eq(total, 4);
    ck_assert_int_eq(fixture_scalar("SELECT in_progress FROM repo_in_progress"
                                    " WHERE repo_url = 'file:///main.git'"),
                     2);
    /* One on the project's own repository finishes: one more claim there, none elsewhere. */
    {
        char q[256], agent[37];
        json_t *out = NULL;
        long long id = fixture_scalar("SELECT id FROM tasks WHERE state = 'in_progress'"
                                      " AND repo_url IS NULL ORDER BY id LIMIT 1");
        PGresult *r;

        snprintf(q, sizeof(q), "SELECT agent_id FROM tasks WHERE id = %lld", id);
        r = PQexec(fx.db.conn, q);
        snprintf(agent, sizeof(agent), "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        snprintf(q, sizeof(q), "SELECT lease_epoch FROM tasks WHERE id = %lld", id);
        ck_assert_int_eq(queue_update_status(&fx.db, &fx.qo, agent, id, fixture_scalar(q),
                                             "completed", NULL, &out, &err),
                         0);
        json_decref(out);
    }
    ck_assert_int_eq(fixture_scalar("SELECT in_progress FROM repo_in_progress"
                                    " WHERE repo_url = 'file:///main.git'"),
                     1);
    claimable_is(1, 35);
    /* A project limit under the repositories' (3 < 2 + 2) is the tighter one. */
    fixture_exec("UPDATE projects SET settings = '{\"max_in_progress_per_repo\": 3,"
                 " \"max_in_progress\": 4}'");
    claimable_is(1, 35);
    fixture_exec("UPDATE projects SET settings = '{\"max_in_progress_per_repo\": 2}'");
    race(rs, RACERS);
    total = 0;
    for (int i = 0; i < RACERS; i++)
        total += rs[i].claimed;
    ck_assert_int_eq(total, 1);
    ck_assert_int_eq(fixture_scalar("SELECT count(*) FROM tasks WHERE state = 'in_progress'"
                                    " AND repo_url IS NULL"),
                     2);
    /* Lifted, then set again: the counters start from what runs. */
    fixture_exec("UPDATE projects SET settings = '{}'");
    race(rs, RACERS);
    ck_assert_int_gt(fixture_scalar("SELECT count(*) FROM tasks WHERE state = 'in_progress'"), 4);
    fixture_exec("UPDATE projects SET settings = '{\"max_in_progress_per_repo\": 1}'");
    ck_assert_int_eq(fixture_scalar("SELECT sum(in_progress) FROM repo_in_progress"),
                     fixture_scalar("SELECT count(*) FROM tasks WHERE state = 'in_progress'"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("project_limits");
    TCase *tc = tcase_create("project_limits");

    testdb_setup();
    tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, racing_claims_never_exceed_the_limit);
    tcase_add_test(tc, a_zero_limit_pauses_a_project);
    tcase_add_test(tc, racing_claims_never_exceed_the_repository_limit);
    suite_add_tcase(s, tc);
    return testdb_run(s);
}
