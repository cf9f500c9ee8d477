/* The shared per-test fixture. Test processes only (each test is a process of its own). */
#include "fixture.h"
#include "store/agents.h"
#include "store/tokens.h"
#include "testdb.h"

#include <check.h>

struct fixture fx;

void fixture_setup(void)
{
    testdb_svc(&fx.db, &fx.env, &fx.svc);
    testdb_reset(&fx.db);
    queue_opts_default(&fx.qo);
}

void fixture_teardown(void)
{
    testdb_svc_close(&fx.db, &fx.env);
}

void fixture_agent(char id[37])
{
    struct err err = {0};

    ck_assert_msg(agents_create(&fx.db, "test", "none", id, &err) == 0, "%s", err.msg);
}

void fixture_agent_token(const char *name, char id[37], char token[PRINCIPAL_TOKEN_LEN])
{
    struct err err = {0};

    ck_assert_msg(agents_create(&fx.db, name, "none", id, &err) == 0, "%s", err.msg);
    ck_assert_msg(tokens_create(&fx.db, PRINCIPAL_AGENT, name, id, token, NULL, &err) == 0, "%s",
                  err.msg);
}

int64_t fixture_enqueue(const struct model_task_new *t)
{
    struct err err = {0};
    json_t *task = NULL;
    int64_t id;

    ck_assert_msg(queue_enqueue(&fx.db, t, &task, NULL, &err) == 0, "%s", err.msg);
    id = json_integer_value(json_object_get(task, "id"));
    json_decref(task);
    return id;
}

json_t *fixture_claim(const char *agent)
{
    struct err err = {0};
    json_t *task = NULL;

    ck_assert_msg(queue_claim(&fx.db, &fx.qo, agent, &task, &err) == 0, "%s", err.msg);
    return task;
}

int64_t fixture_held_task(const char *agent, const struct model_task_new *t)
{
    json_t *task;
    int64_t id;

    fixture_enqueue(t);
    task = fixture_claim(agent);
    ck_assert_msg(task, "%s claimed nothing", agent);
    id = json_integer_value(json_object_get(task, "id"));
    json_decref(task);
    return id;
}

const json_t *fixture_heartbeat_task(const json_t *out, int64_t id)
{
    size_t i;
    const json_t *t;

    json_array_foreach(json_object_get(out, "tasks"), i, t)
    {
        if (json_integer_value(json_object_get(t, "id")) == id)
            return t;
    }
    return NULL;
}

long long fixture_scalar(const char *sql)
{
    return testdb_scalar(&fx.db, sql);
}

void fixture_exec(const char *sql)
{
    testdb_exec(&fx.db, sql);
}
