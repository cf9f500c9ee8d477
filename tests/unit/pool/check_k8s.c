/*
 * The kubernetes pod backend against the fake API server (tests/k8s/fake_apiserver.py, itself
 * checked with kubectl by e2e_k8s_fake), over TLS with a bearer token from a kubeconfig:
 * create (Secret + Pod + ownerReference, token never in the pod), list with paging, watch
 * events (exit with its reason, deletion), 410 re-list (HTTP and in-stream), a dropped
 * watch, 429 Retry-After / 500 retries, 403 quota surfaced, 404 and uid-conflict delete as
 * success, logs; kubeconfig parsing; and every request body validated strictly against the
 * Kubernetes OpenAPI definitions.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pool/agentpool.h"
#include "pool/backend.h"
#include "pool/kubeconfig.h"
#include "store/queue.h"
#include "testdb.h"
#include "core/clock.h"

/* The pool the current test started (agentpool_start), if any. */
static struct agentpool *pool;
#include "core/clock.h"
#include "testsuite.h"

/* The fake listens on a free port it picks (within nothing we assume), read from a file. */
static int port;

static char work[256], kcpath[300], record[300], tmpl[600];
static const char *src;
static pid_t fake = -1;

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

/* POST a control action to the fake. */
static void ctl(const char *json)
{
    sh("curl -sf --cacert %s/cert.pem -X POST -H 'Content-Type: application/json' -d '%s' "
       "https://127.0.0.1:%d/_control >/dev/null",
       work, json, port);
}

static long long count_requests(const char *method, const char *path_part)
{
    char cmd[1024], line[256];
    FILE *f;
    long long n = -1;

    snprintf(cmd, sizeof(cmd),
             "jq -s '[.[] | select(.method == \"%s\" and (.path | contains(\"%s\")))] | length' %s",
             method, path_part, record);
    f = popen(cmd, "r");
    if (f && fgets(line, sizeof(line), f))
        n = atoll(line);
    if (f)
        pclose(f);
    return n;
}

static struct backend *open_backend(void)
{
    struct backend_cfg cfg = {.kind = "kubernetes",
                              .kubeconfig = kcpath,
                              .pod_template = tmpl,
                              .namespace = "drover",
                              .grace_seconds = 2,
                              .server_url = "http://droverd.drover.svc:8080"};
    struct backend *b = NULL;
    struct err err = {0};

    ck_assert_msg(backend_open(&cfg, &b, &err) == 0, "%s", err.msg);
    return b;
}

/* Events collected by poll. */
static struct backend_pod seen[256];
static size_t nseen;

static void on_event(const struct backend_pod *p, void *arg)
{
    (void)arg;
    if (nseen < 256)
        seen[nseen++] = *p;
}

static bool has_event(const char *name, enum backend_phase ph, const char *reason)
{
    for (size_t i = 0; i < nseen; i++)
        if (strcmp(seen[i].name, name) == 0 && seen[i].phase == ph &&
            (!reason || strstr(seen[i].reason, reason)))
            return true;
    return false;
}

static void poll_until(struct backend *b, const char *name, enum backend_phase ph,
                       const char *reason, double secs)
{
    struct err err = {0};
    double t0 = clock_s();

    secs *= testdb_slowdown();
    for (;;) {
        backend_poll(b, on_event, NULL, &err);
        if (has_event(name, ph, reason))
            return;
        if (clock_s() - t0 > secs)
            ck_abort_msg("no event phase %d for %s (%s) within %.0f s", ph, name,
                         reason ? reason : "", secs);
        usleep(50000);
    }
}

static void create_agent(struct backend *b, const char *id, struct backend_pod *pod)
{
    struct backend_agent a = {.agent_id = id,
                              .token = "drv_secret_token_value",
                              .server_url = "http://droverd.drover.svc:8080"};
    struct err err = {0};

    ck_assert_msg(backend_create(b, &a, pod, &err) == 0, "%s", err.msg);
}

START_TEST(test_create_list_delete)
{
    struct backend *b = open_backend();
    struct backend_pod p1, p2, *pods = NULL;
    struct err err = {0};
    size_t n = 0;
    char cmd[600];

    create_agent(b, "11111111-1111-4111-8111-111111111111", &p1);
    create_agent(b, "22222222-2222-4222-8222-222222222222", &p2);
    ck_assert(strncmp(p1.name, "drover-agent-", 13) == 0);
    ck_assert_str_eq(p1.agent_id, "11111111-1111-4111-8111-111111111111");
    ck_assert(p1.uid[0]);
    /* The token is in the Secret, owner-referenced to the pod; never in the pod itself. */
    snprintf(cmd, sizeof(cmd),
             "curl -sf --cacert %s/cert.pem -H 'Authorization: Bearer s3cret' "
             "https://127.0.0.1:%d/api/v1/namespaces/drover/secrets/"
             "drover-agent-11111111-1111-4111-8111-111111111111 | jq -e '.metadata."
             "ownerReferences[0].uid == \"%s\" and .stringData.token == "
             "\"drv_secret_token_value\"' >/dev/null",
             work, port, p1.uid);
    sh("%s", cmd);
    sh("curl -sf --cacert %s/cert.pem -H 'Authorization: Bearer s3cret' "
       "https://127.0.0.1:%d/api/v1/namespaces/drover/pods/%s > %s/pod.json",
       work, port, p1.name, work);
    sh("! grep -q drv_secret_token_value %s/pod.json", work);
    sh("jq -e '.spec.containers[0].env[] | select(.name == \"DROVER_TOKEN\") | "
       ".valueFrom.secretKeyRef.key == \"token\"' %s/pod.json >/dev/null",
       work);
    sh("jq -e '.metadata.labels[\"app.kubernetes.io/name\"] == \"drover-agent\" and "
       ".spec.securityContext.runAsNonRoot and .spec.containers[0].securityContext."
       "readOnlyRootFilesystem' %s/pod.json >/dev/null",
       work);

    /* List (paged by 100: both are there, with their agent ids). */
    ck_assert_msg(backend_list(b, &pods, &n, &err) == 0, "%s", err.msg);
    ck_assert_int_ge(n, 2);
    {
        int found = 0;

        for (size_t i = 0; i < n; i++)
            if (strcmp(pods[i].name, p2.name) == 0 &&
                strcmp(pods[i].agent_id, "22222222-2222-4222-8222-222222222222") == 0)
                found++;
        ck_assert_int_eq(found, 1);
    }
    free(pods);

    /* droverd's shutdown leaves agent pods running (they outlive a restart): nothing to wait
     * for, nothing deleted. */
    {
        long long deletes = count_requests("DELETE", "/pods/");

        ck_assert_int_eq(backend_shutdown(b, 5), 0);
        ck_assert_int_eq(count_requests("DELETE", "/pods/"), deletes);
    }

    /* Watch: Running, then deletion (MODIFIED with deletionTimestamp, then DELETED). */
    nseen = 0;
    poll_until(b, p1.name, BACKEND_RUNNING, NULL, 10);
    ck_assert_msg(backend_remove(b, p1.name, p1.uid, &err) == 0, "%s", err.msg);
    poll_until(b, p1.name, BACKEND_DELETED, NULL, 10);
    /* The owned Secret went with it. */
    sh("test \"$(curl -s -o /dev/null -w '%%{http_code}' --cacert %s/cert.pem -H "
       "'Authorization: Bearer s3cret' https://127.0.0.1:%d/api/v1/namespaces/drover/secrets/"
       "drover-agent-11111111-1111-4111-8111-111111111111)\" = 404",
       work, port);
    /* Deleting again is a 404: success. A stale uid is a 409: success, and the pod stays. */
    ck_assert_msg(backend_remove(b, p1.name, p1.uid, &err) == 0, "%s", err.msg);
    ck_assert_msg(backend_remove(b, p2.name, "not-its-uid", &err) == 0, "%s", err.msg);
    sh("curl -sf -o /dev/null --cacert %s/cert.pem -H 'Authorization: Bearer s3cret' "
       "https://127.0.0.1:%d/api/v1/namespaces/drover/pods/%s",
       work, port, p2.name);
    ck_assert(backend_remove(b, p2.name, p2.uid, &err) == 0);
    backend_close(b);
}
END_TEST

START_TEST(test_exit_reason_and_vanished_pod)
{
    struct backend *b = open_backend();
    struct backend_pod p1, p2;
    char json[800];

    create_agent(b, "33333333-3333-4333-8333-333333333333", &p1);
    create_agent(b, "44444444-4444-4444-8444-444444444444", &p2);
    nseen = 0;
    poll_until(b, p1.name, BACKEND_RUNNING, NULL, 10);
    snprintf(json, sizeof(json),
             "{\"action\":\"phase\",\"name\":\"%s\",\"phase\":\"Failed\",\"exit_code\":3,"
             "\"reason\":\"Error\"}",
             p1.name);
    ctl(json);
    poll_until(b, p1.name, BACKEND_EXITED, "exit code 3", 10);
    snprintf(json, sizeof(json),
             "{\"action\":\"phase\",\"name\":\"%s\",\"phase\":\"Pending\","
             "\"reason\":\"ImagePullBackOff\"}",
             p2.name);
    ctl(json);
    poll_until(b, p2.name, BACKEND_PENDING, "ImagePullBackOff", 10);
    snprintf(json, sizeof(json), "{\"action\":\"remove\",\"name\":\"%s\"}", p2.name);
    ctl(json);
    poll_until(b, p2.name, BACKEND_DELETED, NULL, 10);
    backend_close(b);
}
END_TEST

START_TEST(test_410_relist_and_dropped_watch)
{
    struct backend *b = open_backend();
    struct backend_pod p1, p2, p3;
    char json[800];
    long long lists;

    create_agent(b, "55555555-5555-4555-8555-555555555555", &p1);
    nseen = 0;
    poll_until(b, p1.name, BACKEND_RUNNING, NULL, 10);

    /* HTTP 410: history compacted and the watch cut; a pod vanishes meanwhile. */
    lists = count_requests("GET", "/pods");
    ctl("{\"action\":\"gone_mode\",\"mode\":\"http\"}");
    ctl("{\"action\":\"compact\"}");
    ctl("{\"action\":\"drop_watches\"}");
    snprintf(json, sizeof(json), "{\"action\":\"remove\",\"name\":\"%s\"}", p1.name);
    ctl(json);
    poll_until(b, p1.name, BACKEND_DELETED, NULL, 15);

    /* In-stream ERROR 410 (HTTP 200): also a re-list, which sees the new pod. */
    create_agent(b, "66666666-6666-4666-8666-666666666666", &p2);
    poll_until(b, p2.name, BACKEND_RUNNING, NULL, 10);
    ctl("{\"action\":\"gone_mode\",\"mode\":\"stream\"}");
    ctl("{\"action\":\"compact\"}");
    ctl("{\"action\":\"drop_watches\"}");
    create_agent(b, "77777777-7777-4777-8777-777777777777", &p3);
    snprintf(json, sizeof(json),
             "{\"action\":\"phase\",\"name\":\"%s\",\"phase\":\"Failed\",\"exit_code\":137,"
             "\"reason\":\"OOMKilled\"}",
             p2.name);
    ctl(json);
    poll_until(b, p2.name, BACKEND_EXITED, "OOMKilled", 15);
    ck_assert_int_gt(count_requests("GET", "/pods"), lists + 2);
    ctl("{\"action\":\"gone_mode\",\"mode\":\"http\"}");
    backend_remove(b, p2.name, p2.uid, NULL);
    backend_remove(b, p3.name, p3.uid, NULL);
    backend_close(b);
}
END_TEST

START_TEST(test_faults)
{
    struct backend *b = open_backend();
    struct backend_pod p;
    struct err err = {0};
    struct buf logs;
    long long before;

    /* 429 with Retry-After, then two 500s: create still succeeds, after retries. */
    before = count_requests("POST", "/pods");
    ctl("{\"action\":\"fault\",\"method\":\"POST\",\"path\":\"/api/v1/namespaces/drover/pods\","
        "\"status\":429,\"retry_after\":1,\"reason\":\"TooManyRequests\",\"count\":1}");
    ctl("{\"action\":\"fault\",\"method\":\"POST\",\"path\":\"/api/v1/namespaces/drover/pods\","
        "\"status\":500,\"count\":2}");
    create_agent(b, "88888888-8888-4888-8888-888888888888", &p);
    ck_assert_int_eq(count_requests("POST", "/pods"), before + 4);

    /* 403 quota: surfaced, not retried, and the Secret is cleaned up. */
    before = count_requests("POST", "/pods");
    ctl("{\"action\":\"fault\",\"method\":\"POST\",\"path\":\"/api/v1/namespaces/drover/pods\","
        "\"status\":403,\"reason\":\"Forbidden\",\"message\":\"pods \\\"x\\\" is forbidden: "
        "exceeded quota: agents, requested: pods=1, used: pods=10, limited: pods=10\"}");
    {
        struct backend_agent a = {.agent_id = "99999999-9999-4999-8999-999999999999",
                                  .token = "t",
                                  .server_url = "http://x"};
        struct backend_pod q;

        ck_assert_int_eq(backend_create(b, &a, &q, &err), -1);
        ck_assert_int_eq(err.code, ERR_FORBIDDEN);
        ck_assert_ptr_nonnull(strstr(err.msg, "exceeded quota"));
    }
    ck_assert_int_eq(count_requests("POST", "/pods"), before + 1);
    ck_assert_int_eq(count_requests("DELETE", "/secrets/drover-agent-9999"), 1);

    /* A connection dropped mid-reply is retried. */
    ctl("{\"action\":\"fault\",\"method\":\"GET\",\"path\":\"/api/v1/namespaces/drover/pods/\","
        "\"drop\":true}");
    /* Logs: the last lines of the agent container. */
    {
        char json[800];

        for (int i = 1; i <= 3; i++) {
            snprintf(json, sizeof(json), "{\"action\":\"log\",\"name\":\"%s\",\"line\":\"l%d\"}",
                     p.name, i);
            ctl(json);
        }
    }
    buf_init(&logs, 1 << 20);
    ck_assert_msg(backend_logs(b, p.name, 2, false, &logs, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(logs.data, "l2\nl3\n");
    buf_reset(&logs);
    /* follow: what the agent writes until its container ends. */
    sh("(sleep 1; curl -sf --cacert %s/cert.pem -X POST -d '{\"action\":\"log\",\"name\":"
       "\"%s\",\"line\":\"l4\"}' https://127.0.0.1:%d/_control; sleep 0.5; curl -sf --cacert "
       "%s/cert.pem -X POST -d '{\"action\":\"phase\",\"name\":\"%s\",\"phase\":"
       "\"Succeeded\",\"exit_code\":0}' https://127.0.0.1:%d/_control) >/dev/null 2>&1 &",
       work, p.name, port, work, p.name, port);
    ck_assert_msg(backend_logs(b, p.name, 1, true, &logs, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(logs.data, "l3\nl4\n");
    buf_clear(&logs);
    ck_assert_int_eq(backend_logs(b, "no-such-pod", 2, false, &logs, &err), -1);
    ck_assert_int_eq(err.code, ERR_NOT_FOUND);

    /* Persistent 503: a clear error after bounded retries, no crash. */
    ctl("{\"action\":\"fault\",\"method\":\"DELETE\",\"path\":\"/api/v1/namespaces/drover/pods/\","
        "\"status\":503,\"count\":4}");
    ck_assert_int_eq(backend_remove(b, p.name, p.uid, &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAVAILABLE);
    ck_assert_msg(backend_remove(b, p.name, p.uid, &err) == 0, "%s", err.msg);
    backend_close(b);
}
END_TEST

START_TEST(test_kubeconfig_and_yaml)
{
    struct kubeconfig kc;
    struct err err = {0};
    json_t *j = NULL;
    char path[400];
    FILE *f;
    const char *y = "a: 1\nb: \"2\"\nc: [true, null, x, -3, 1.5]\nd: {e: f}\n";

    ck_assert(kubeconfig_yaml_parse(y, strlen(y), &j, &err) == 0);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "a")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(j, "b")), "2");
    ck_assert(json_is_true(json_array_get(json_object_get(j, "c"), 0)));
    ck_assert(json_is_null(json_array_get(json_object_get(j, "c"), 1)));
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(j, "c"), 3)), -3);
    json_decref(j);
    ck_assert_int_eq(kubeconfig_yaml_parse("a: [", 4, &j, &err), -1);
    ck_assert_int_eq(err.code, ERR_INVALID);

    ck_assert_msg(kubeconfig_load(kcpath, &kc, &err) == 0, "%s", err.msg);
    {
        char want[64];

        snprintf(want, sizeof(want), "https://127.0.0.1:%d", port);
        ck_assert_str_eq(kc.server, want);
    }
    ck_assert_str_eq(kc.token, "s3cret");
    ck_assert_str_eq(kc.namespace, "drover");
    ck_assert_ptr_nonnull(strstr(kc.ca_pem, "BEGIN CERTIFICATE"));
    kubeconfig_free(&kc);

    /* tokenFile relative to the file, CA from a file; exec plugins are refused clearly. */
    snprintf(path, sizeof(path), "%s/kc2", work);
    f = fopen(path, "w");
    fprintf(f, "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n"
               "  cluster:\n    server: https://127.0.0.1:1/\n"
               "    certificate-authority: cert.pem\nusers:\n- name: u\n  user:\n"
               "    tokenFile: token\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n");
    fclose(f);
    ck_assert_msg(kubeconfig_load(path, &kc, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(kc.server, "https://127.0.0.1:1"); /* trailing slash dropped */
    ck_assert(strstr(kc.token_file, "/token") != NULL);
    ck_assert_ptr_nonnull(kc.ca_pem);
    kubeconfig_free(&kc);
    f = fopen(path, "w");
    fprintf(f, "current-context: c\nclusters:\n- name: k\n  cluster: {server: https://x}\n"
               "users:\n- name: u\n  user:\n    exec: {command: aws}\ncontexts:\n- name: c\n"
               "  context: {cluster: k, user: u}\n");
    fclose(f);
    ck_assert_int_eq(kubeconfig_load(path, &kc, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "exec"));
}
END_TEST

START_TEST(test_token_rotation_in_cluster)
{
    /* In-cluster: token file re-read on 401 (the fake only accepts the new token now). */
    struct backend_cfg cfg = {
        .kind = "kubernetes", .pod_template = tmpl, .grace_seconds = 1, .server_url = "http://x"};
    struct backend *b = NULL;
    struct backend_pod *pods = NULL;
    struct err err = {0};
    size_t n;
    char dir[400];

    snprintf(dir, sizeof(dir), "%s/sa", work);
    sh("mkdir -p %s && cp %s/cert.pem %s/ca.crt && echo drover > %s/namespace && "
       "echo s3cret > %s/token",
       dir, work, dir, dir, dir);
    cfg.sa_dir = dir;
    setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
    {
        char ps[16];

        snprintf(ps, sizeof(ps), "%d", port);
        setenv("KUBERNETES_SERVICE_PORT", ps, 1);
    }
    ck_assert_msg(backend_open(&cfg, &b, &err) == 0, "%s", err.msg);
    ck_assert_msg(backend_list(b, &pods, &n, &err) == 0, "%s", err.msg);
    free(pods);
    /* Rotate: the kubelet writes a new token and the old one stops working. The cached
     * token gets a 401, the file is re-read once, and the call succeeds. */
    sh("echo rotated > %s/token", dir);
    ctl("{\"action\":\"token\",\"token\":\"rotated\"}");
    ck_assert_msg(backend_list(b, &pods, &n, &err) == 0, "%s", err.msg);
    free(pods);
    /* A token nobody accepts: a clear 401, no crash, no endless retry. */
    sh("echo wrong > %s/token", dir);
    ctl("{\"action\":\"token\",\"token\":\"other\"}");
    ck_assert_int_eq(backend_list(b, &pods, &n, &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAUTHORIZED);
    ctl("{\"action\":\"token\",\"token\":\"s3cret\"}");
    backend_close(b);
    unsetenv("KUBERNETES_SERVICE_HOST");
}
END_TEST

START_TEST(test_bodies_are_valid)
{
    /* Every body Drover sent in the tests above, strictly against the OpenAPI definitions. */
    sh("python3 %s/tests/k8s/k8s_validate.py --bodies %s", src, record);
    /* ... and every pod droverd made meets the namespace's `restricted` Pod Security level,
     * which the fake API server does not enforce (not the orphan pod planted above). */
    sh("python3 %s/tests/k8s/pss_check.py --bodies %s --field-manager droverd", src, record);
    ck_assert_int_gt(count_requests("POST", "/pods"), 3);
    ck_assert_int_gt(count_requests("DELETE", "/pods/"), 3);
    ck_assert_int_gt(count_requests("PATCH", "/secrets/"), 3);
}
END_TEST

/* ---- the pool thread with the kubernetes backend --------------------------------------- */

static long long sql_ll(struct db *db, const char *sql)
{
    PGresult *r = PQexec(db->conn, sql);
    long long v;

    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(db->conn));
    v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

static void wait_sql(struct db *db, const char *sql, long long want, int secs)
{
    long long v = -1;

    for (int i = 0; i < secs * 10 * (int)testdb_slowdown(); i++) {
        v = sql_ll(db, sql);
        if (v == want)
            return;
        usleep(100000);
    }
    ck_abort_msg("timed out: %s = %lld, want %lld", sql, v, want);
}

/* How many agent pods the fake holds (not being deleted). */
static long long fake_pods(void)
{
    char cmd[600], line[64] = "";
    FILE *f;

    snprintf(cmd, sizeof(cmd),
             "curl -s --cacert %s/cert.pem -H 'Authorization: Bearer s3cret' "
             "'https://127.0.0.1:%d/api/v1/namespaces/drover/pods?labelSelector="
             "app.kubernetes.io%%2Fname%%3Ddrover-agent' | jq '[.items[] | "
             "select(.metadata.deletionTimestamp == null)] | length'",
             work, port);
    f = popen(cmd, "r");
    if (f && !fgets(line, sizeof(line), f))
        line[0] = '\0';
    if (f)
        pclose(f);
    return atoll(line);
}

static void heartbeat_all_starting(struct db *db)
{
    PGresult *r = PQexec(db->conn, "SELECT id FROM agents WHERE status = 'initializing'");
    struct queue_opts qo;

    queue_opts_default(&qo);
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *out = NULL;
        struct err err = {0};

        ck_assert_msg(queue_heartbeat(db, &qo, PQgetvalue(r, i, 0), NULL, NULL, NULL, &out, &err) ==
                          0,
                      "%s", err.msg);
        json_decref(out);
    }
    PQclear(r);
}

START_TEST(test_pool_on_kubernetes)
{
    struct agentpool_cfg c;
    struct err err = {0};
    struct db db;
    char json[800], pod[256] = "", sql[400];
    PGresult *r;

    testdb_connect(&db);
    testdb_reset(&db);
    agentpool_cfg_default(&c);
    ck_assert(agentpool_cfg_set(&c, "pod-backend", "kubernetes", &err) == 1);
    ck_assert(agentpool_cfg_set(&c, "kubeconfig", kcpath, &err) == 1);
    ck_assert(agentpool_cfg_set(&c, "agent-pod-template", tmpl, &err) == 1);
    ck_assert(agentpool_cfg_set(&c, "agent-server-url", "http://droverd:8080", &err) == 1);
    c.tick_seconds = 30;
    c.stabilization_seconds = 2;
    c.orphan_grace_seconds = 1;
    c.grace_seconds = 1;
    c.max_starting = 10;
    ck_assert_msg(agentpool_start(&c, testdb_dsn(), &pool, &err) == 0, "%s", err.msg);

    /* Two pods for min_agents 2; the agents come up (first heartbeat). */
    wait_sql(&db,
             "SELECT count(*) FROM agents WHERE status = 'initializing' AND pod_name"
             " LIKE 'drover-agent-%'",
             2, 15);
    /* Each agent's pod exists in the API (earlier tests' leftovers are orphans now). */
    ck_assert_int_ge(fake_pods(), 2);
    r = PQexec(db.conn, "SELECT pod_name FROM agents WHERE status = 'initializing'");
    for (int i = 0; i < PQntuples(r); i++)
        sh("curl -sf -o /dev/null --cacert %s/cert.pem -H 'Authorization: Bearer s3cret' "
           "https://127.0.0.1:%d/api/v1/namespaces/drover/pods/%s",
           work, port, PQgetvalue(r, i, 0));
    PQclear(r);
    heartbeat_all_starting(&db);

    /* A pod fails: its agent goes offline with the container's reason, and is replaced. */
    r = PQexec(db.conn, "SELECT pod_name FROM agents WHERE status = 'idle' LIMIT 1");
    snprintf(pod, sizeof(pod), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    snprintf(json, sizeof(json),
             "{\"action\":\"phase\",\"name\":\"%s\",\"phase\":\"Failed\",\"exit_code\":3,"
             "\"reason\":\"Error\"}",
             pod);
    ctl(json);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM agents WHERE pod_name = '%s' AND status = 'offline' AND "
             "offline_reason = 'pod ended: exit code 3 (Error)'",
             pod);
    wait_sql(&db, sql, 1, 15);
    wait_sql(&db, "SELECT count(*) FROM agents WHERE status = 'initializing'", 1, 15);
    heartbeat_all_starting(&db);

    /* An orphan pod (Drover's labels, no agent row) is deleted after the grace. */
    sh("curl -sf -o /dev/null --cacert %s/cert.pem -H 'Authorization: Bearer s3cret' -H "
       "'Content-Type: application/json' https://127.0.0.1:%d/api/v1/namespaces/drover/pods -d "
       "'{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"orphan\","
       "\"labels\":{\"app.kubernetes.io/name\":\"drover-agent\",\"drover.dev/agent-id\":"
       "\"00000000-0000-4000-8000-000000000000\"}},\"spec\":{\"containers\":[{\"name\":"
       "\"agent\",\"image\":\"x\"}]}}'",
       work, port);
    /* Orphans are found by the reconcile of each evaluation: wake one with a task. */
    {
        struct model_task_new t = {.title = "wake", .repo_url = "file:///tmp/r.git"};
        json_t *task = NULL;

        ck_assert(queue_enqueue(&db, &t, &task, NULL, &err) == 0);
        json_decref(task);
        sleep(2);
        t.title = "wake again";
        ck_assert(queue_enqueue(&db, &t, &task, NULL, &err) == 0);
        json_decref(task);
    }
    for (int i = 0; i < 100; i++) {
        char cmd[600];

        snprintf(cmd, sizeof(cmd),
                 "test \"$(curl -s -o /dev/null -w '%%{http_code}' --cacert %s/cert.pem -H "
                 "'Authorization: Bearer s3cret' "
                 "https://127.0.0.1:%d/api/v1/namespaces/drover/pods/orphan)\" = 404",
                 work, port);
        if (system(cmd) == 0)
            break;
        ck_assert_msg(i < 99, "the orphan pod was not deleted");
        usleep(100000);
    }

    /* A pod vanishes (node lost): its agent goes offline. */
    r = PQexec(db.conn, "SELECT pod_name FROM agents WHERE status = 'idle' LIMIT 1");
    snprintf(pod, sizeof(pod), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    snprintf(json, sizeof(json), "{\"action\":\"remove\",\"name\":\"%s\"}", pod);
    ctl(json);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM agents WHERE pod_name = '%s' AND status = 'offline'", pod);
    wait_sql(&db, sql, 1, 15);
    agentpool_stop(pool);
    pool = NULL;
    ck_assert_int_gt(sql_ll(&db, "SELECT count(*) FROM scale_events"), 0);
    db_close(&db);
}
END_TEST

static void start_fake(void)
{
    char port_s[16] = "0", cert[300], key[300], fakepy[600], pfile[300];

    snprintf(cert, sizeof(cert), "%s/cert.pem", work);
    snprintf(key, sizeof(key), "%s/key.pem", work);
    snprintf(fakepy, sizeof(fakepy), "%s/tests/k8s/fake_apiserver.py", src);
    snprintf(pfile, sizeof(pfile), "%s/port", work);
    fake = fork();
    if (fake == 0) {
        execlp("python3", "python3", fakepy, "--port", port_s, "--port-file", pfile, "--token",
               "s3cret", "--record", record, "--tls-cert", cert, "--tls-key", key, "--grace-scale",
               "0.3", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100 && !port; i++) {
        FILE *pf = fopen(pfile, "r");

        if (pf) {
            if (fscanf(pf, "%d", &port) != 1)
                port = 0;
            fclose(pf);
        }
        if (!port)
            usleep(100000);
    }
    for (int i = 0; i < 100; i++) {
        char cmd[600];

        snprintf(cmd, sizeof(cmd),
                 "curl -sf -o /dev/null --cacert %s -H 'Authorization: Bearer s3cret' "
                 "https://127.0.0.1:%d/version",
                 cert, port);
        if (system(cmd) == 0)
            return;
        usleep(100000);
    }
    fprintf(stderr, "the fake API server did not start\n");
    exit(1);
}

int main(void)
{
    Suite *s = suite_create("k8s");
    TCase *tc = tcase_create("k8s");
    int failed;
    char cmd[2400];
    FILE *f;

    testdb_setup();
    src = getenv("DROVER_SOURCE_DIR");
    if (!src)
        src = ".";
    snprintf(work, sizeof(work), "/tmp/drover-k8s-test-%ld", (long)getpid());
    snprintf(kcpath, sizeof(kcpath), "%s/kubeconfig", work);
    snprintf(record, sizeof(record), "%s/requests.jsonl", work);
    snprintf(tmpl, sizeof(tmpl), "%s/k8s/agent-pod.yaml", src);
    snprintf(cmd, sizeof(cmd),
             "mkdir -p %s && openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
             "-subj /CN=fake-apiserver -addext subjectAltName=IP:127.0.0.1 -keyout %s/key.pem "
             "-out %s/cert.pem 2>/dev/null && echo s3cret > %s/token",
             work, work, work, work);
    if (system(cmd) != 0)
        return 1;
    start_fake();
    snprintf(cmd, sizeof(cmd), "base64 -w0 %s/cert.pem", work);
    f = fopen(kcpath, "w");
    {
        FILE *p = popen(cmd, "r");
        char ca[8192] = "";

        if (!p || !fgets(ca, sizeof(ca), p))
            return 1;
        pclose(p);
        fprintf(f,
                "apiVersion: v1\nkind: Config\ncurrent-context: fake\nclusters:\n- name: fake\n"
                "  cluster:\n    server: \"https://127.0.0.1:%d\"\n"
                "    certificate-authority-data: %s\nusers:\n- name: drover\n  user:\n"
                "    token: s3cret\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n"
                "    user: drover\n    namespace: drover\n",
                port, ca);
    }
    fclose(f);

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_create_list_delete);
    tcase_add_test(tc, test_exit_reason_and_vanished_pod);
    tcase_add_test(tc, test_410_relist_and_dropped_watch);
    tcase_add_test(tc, test_faults);
    tcase_add_test(tc, test_kubeconfig_and_yaml);
    tcase_add_test(tc, test_token_rotation_in_cluster);
    tcase_add_test(tc, test_pool_on_kubernetes);
    tcase_add_test(tc, test_bodies_are_valid);
    suite_add_tcase(s, tc);
    failed = testsuite_run(s) != EXIT_SUCCESS;
    testdb_teardown();
    kill(fake, SIGTERM);
    waitpid(fake, NULL, 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", work);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", work);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
