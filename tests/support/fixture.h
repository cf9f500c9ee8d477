/*
 * The per-test fixture of the database suites: a connection to the test schema (testdb.h), a
 * service environment with its defaults and a context over that connection as a worker has,
 * and default queue options, all fresh and over emptied tables before each test. Pass
 * fixture_setup and fixture_teardown to tcase_add_checked_fixture; a suite that needs more
 * (a cache, extra tables emptied) calls them from its own setup and teardown.
 *
 * There is one fixture, `fx`, rather than one per suite: Check runs every test in a process of
 * its own, and a checked fixture takes no argument. Test processes only.
 */
#ifndef DROVER_FIXTURE_H
#define DROVER_FIXTURE_H

#include <stdint.h>

#include "core/model.h"
#include "core/principal.h"
#include "store/db.h"
#include "store/queue.h"
#include "svc/svc.h"

struct fixture {
    struct db db;         /* the test's connection */
    struct svc_env env;   /* svc_env_default's; a test may set its fields */
    struct svc_ctx svc;   /* over db and env */
    struct queue_opts qo; /* queue_opts_default's, for the test's own queue calls */
};

extern struct fixture fx;

/* The repository of the tests' tasks that belong to no project. */
#define FIXTURE_REPO "file:///tmp/repo.git"

/*
 * Before each test: fx.db connected (testdb_svc) over emptied tables (testdb_reset), fx.env
 * and fx.svc made, fx.qo the defaults. After it: all of it closed and freed.
 */
void fixture_setup(void);
void fixture_teardown(void);

/* A new agent (name "test", runtime "none"); its id. */
void fixture_agent(char id[37]);

/* A new agent named `name` and an agent token for it: its id and the token. */
void fixture_agent_token(const char *name, char id[37], char token[PRINCIPAL_TOKEN_LEN]);

/* Enqueue `t`; the new task's id. */
int64_t fixture_enqueue(const struct model_task_new *t);

/* What `agent` claims now with fx.qo (owned), NULL: nothing claimable; an error fails the test. */
json_t *fixture_claim(const char *agent);

/*
 * Enqueue `t` and have `agent` claim what is claimable: the id of the task it now holds (none
 * fails the test).
 */
int64_t fixture_held_task(const char *agent, const struct model_task_new *t);

/* The entry for task `id` in a heartbeat's answer `out` ({"tasks": [...]}), or NULL. */
const json_t *fixture_heartbeat_task(const json_t *out, int64_t id);

/* testdb_scalar and testdb_exec on fx.db. */
long long fixture_scalar(const char *sql);
void fixture_exec(const char *sql);

#endif
