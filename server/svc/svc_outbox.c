/* The outbox thread and one delivery. Its own thread. */
#include "svc/svc_outbox.h"
#include "core/counters.h"
#include "core/http.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/secret.h"
#include "core/text.h"
#include "store/outbox.h"
#include "store/projects.h"
#include "store/queue.h"
#include "store/review.h"
#include "svc/svc_forge.h"
#include "svc/svc_prclose.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SVC_OUTBOX_BATCH 20
#define SVC_OUTBOX_TIMEOUT_S 15 /* Standard Webhooks recommends 15-30 s */

struct svc_outbox {
    pthread_t thread;
    atomic_bool stop;
    char *dsn;
    const struct svc_env *env;
};

void svc_outbox_sign(const char *secret, const char *id, long long ts, const char *body, size_t len,
                     char out[100])
{
    unsigned char key[128], md[EVP_MAX_MD_SIZE];
    const unsigned char *k = (const unsigned char *)secret;
    size_t klen = strlen(secret), plen;
    unsigned int n = 0;
    char *msg;
    int kl = (int)klen;

    if (strncmp(secret, "whsec_", 6) == 0 && klen - 6 <= 160 && klen > 6) {
        int d = EVP_DecodeBlock(key, (const unsigned char *)secret + 6, (int)(klen - 6));

        if (d > 0) {
            d -= (secret[klen - 1] == '=') + (secret[klen - 2] == '=');
            k = key;
            kl = d;
        }
    }
    msg = mem_printf("%s.%lld.", id, ts);
    plen = strlen(msg);
    msg = realloc(msg, plen + len + 1);
    memcpy(msg + plen, body, len);
    HMAC(EVP_sha256(), k, kl, (unsigned char *)msg, plen + len, md, &n);
    free(msg);
    OPENSSL_cleanse(key, sizeof(key));
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, md, (int)n);
}

json_t *svc_outbox_slack(const json_t *payload)
{
    const json_t *t = json_object_get(json_object_get(payload, "data"), "task");
    const char *type = json_string_value(json_object_get(payload, "type"));
    const char *title = json_string_value(json_object_get(t, "title"));
    const char *q = json_string_value(json_object_get(t, "question"));
    const char *e = json_string_value(json_object_get(t, "last_error"));
    const char *url = json_string_value(json_object_get(json_object_get(t, "pull_request"), "url"));
    /* task.approval: the exact action a person is asked to allow. */
    const char *act = json_string_value(
        json_object_get(json_object_get(json_object_get(payload, "data"), "approval"), "action"));
    char *text = mem_printf("Drover task #%lld %s: %s%s%s%s%s%s%s%s%s",
                            (long long)json_integer_value(json_object_get(t, "id")),
                            type && strncmp(type, "task.", 5) == 0 ? type + 5 : "changed",
                            title ? title : "", q ? "\nQuestion: " : "", q ? q : "",
                            e && strcmp(type ? type : "", "task.failed") == 0 ? "\nError: " : "",
                            e && strcmp(type ? type : "", "task.failed") == 0 ? e : "",
                            url ? "\nPull request: " : "", url ? url : "",
                            act ? "\nWaiting for approval: " : "", act ? act : "");
    json_t *out = json_pack("{s:s}", "text", text);

    free(text);
    return out;
}

/*
 * The signing secret: $DROVER_NOTIFY_SECRET_<ENDPOINT>, else $DROVER_NOTIFY_SECRET, each also
 * as a file ($..._FILE, core/secret.h). 0 with *out owned or NULL (unsigned); -1 when a named
 * file cannot be read: the message then waits rather than going out unsigned.
 */
static int svc_outbox_secret(const char *endpoint, char **out, struct err *err)
{
    char var[160];

    text_env_name("DROVER_NOTIFY_SECRET_", endpoint, var, sizeof(var));
    if (secret_get(var, out, err) < 0)
        return -1;
    return *out ? 0 : secret_get("DROVER_NOTIFY_SECRET", out, err);
}

/* Deliver one message; settle it. */
static int svc_outbox_one(struct db *db, struct http *h, const json_t *m, struct err *err)
{
    const char *url = json_string_value(json_object_get(m, "url"));
    const char *fmt = json_string_value(json_object_get(m, "format"));
    const char *ep = json_string_value(json_object_get(m, "endpoint"));
    const json_t *payload = json_object_get(m, "payload");
    long long id = json_integer_value(json_object_get(m, "id"));
    int attempts = (int)json_integer_value(json_object_get(m, "attempts"));
    json_t *slack = NULL;
    char *body, msgid[40], ts[24], sig[100], h_id[64], h_ts[48], h_sig[128];
    const char *headers[4] = {NULL, NULL, NULL, NULL};
    const char *curl_why;
    char *secret = NULL;
    struct http_req req = {0};
    struct http_resp resp;
    struct err herr = {0};
    bool ok, dead;
    int retry = 5, rc;
    long long now = (long long)time(NULL);

    if (svc_outbox_secret(ep, &secret, err) < 0) {
        log_warn("outbox", "message msg_%lld to %s waits: %s", id, ep, err->msg);
        return -1; /* its lease runs out and it is tried again, never sent unsigned */
    }
    if (fmt && strcmp(fmt, "slack") == 0)
        slack = svc_outbox_slack(payload);
    body = json_dumps(slack ? slack : payload, JSON_COMPACT);
    snprintf(msgid, sizeof(msgid), "msg_%lld", id);
    snprintf(ts, sizeof(ts), "%lld", now);
    snprintf(h_id, sizeof(h_id), "webhook-id: %s", msgid);
    snprintf(h_ts, sizeof(h_ts), "webhook-timestamp: %s", ts);
    headers[0] = h_id;
    headers[1] = h_ts;
    if (secret) {
        svc_outbox_sign(secret, msgid, now, body, strlen(body), sig);
        snprintf(h_sig, sizeof(h_sig), "webhook-signature: %s", sig);
        headers[2] = h_sig;
    }
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.body = body;
    req.content_type = "application/json";
    req.timeout_s = SVC_OUTBOX_TIMEOUT_S;
    req.connect_timeout_s = 5;
    req.max_body = 65536;
    /* No transaction is open here: the row is leased, the queue goes on. */
    http_request(h, &req, &resp, &herr);
    ok = resp.status >= 200 && resp.status < 300;
    dead = !ok && (resp.status == 410 || attempts >= SVC_OUTBOX_MAX_ATTEMPTS);
    for (int i = 1; i < attempts && retry < 3600; i++)
        retry *= 2;
    if (retry > 3600)
        retry = 3600;
    if (resp.retry_after_s > retry && resp.retry_after_s <= 3600)
        retry = (int)resp.retry_after_s;
    /* Why, in curl's words only (resp.error): herr.msg names the URL, whose path may be the
     * endpoint's secret (Slack), and the reason is kept in the history operators may read. */
    curl_why = resp.error[0] ? resp.error : "no request made";
    if (!ok)
        log_warn("outbox", "message %s to %s: attempt %d failed (%s)%s", msgid, ep, attempts,
                 resp.status ? "HTTP status" : curl_why, dead ? ", giving up" : "");
    {
        char why[300];

        if (ok)
            why[0] = '\0';
        else if (resp.status)
            snprintf(why, sizeof(why), "HTTP %ld", resp.status);
        else
            snprintf(why, sizeof(why), "%.290s", curl_why);
        rc = outbox_settle(db, id, ok, dead, retry, resp.status, ok ? NULL : why, err);
    }
    /* Counted once the outcome is recorded: a settle that failed leaves the lease to expire and
     * the attempt to be made again, so it is not an outcome yet. */
    if (rc == 0)
        counters_outbox_delivery(ok ? "delivered" : dead ? "dead" : "retry");
    http_resp_clear(&resp);
    json_decref(slack);
    free(body);
    secret_free(secret);
    return rc;
}

int svc_outbox_pass(struct db *db, int *n, struct err *err)
{
    json_t *due = NULL, *m;
    struct http h;
    size_t i;
    int rc = 0;

    *n = 0;
    if (outbox_take(db, SVC_OUTBOX_BATCH, SVC_OUTBOX_TIMEOUT_S * 4, &due, err) < 0)
        return -1;
    if (json_array_size(due) && http_init(&h, err) == 0) {
        json_array_foreach(due, i, m)
        {
            if (svc_outbox_one(db, &h, m, err) < 0) {
                rc = -1;
                break;
            }
            (*n)++;
        }
        http_clear(&h);
    }
    json_decref(due);
    return rc;
}

int svc_outbox_comments_pass(struct svc_ctx *c, int *n, struct err *err)
{
    json_t *due = NULL, *m;
    size_t i;

    *n = 0;
    if (review_comments_take(c->db, SVC_OUTBOX_BATCH, SVC_OUTBOX_TIMEOUT_S * 8, &due, err) < 0)
        return -1;
    json_array_foreach(due, i, m)
    {
        int64_t id = json_integer_value(json_object_get(m, "id"));
        int attempts = (int)json_integer_value(json_object_get(m, "attempts")), retry = 5;
        const char *kind = json_string_value(json_object_get(m, "kind"));
        struct svc_forge sf;
        struct err ferr = {0};
        json_t *task = NULL;
        bool has = false, ok = false;

        if (kind && strcmp(kind, "pr_close") == 0) {
            /* A superseded sibling's pull request its accept could not close (svc_prclose.h). */
            if (svc_prclose_one(c, m, err) < 0) {
                json_decref(due);
                return -1;
            }
            (*n)++;
            continue;
        }
        for (int k = 1; k < attempts && retry < 3600; k++)
            retry *= 2;
        if (queue_get(c->db, json_integer_value(json_object_get(m, "task_id")), &task, &ferr) ==
                0 &&
            svc_forge_resolve(c, json_integer_value(json_object_get(m, "project_id")), task, &sf,
                              &has, &ferr) == 0) {
            /* No transaction is open: the comment is leased. */
            ok = has &&
                 forge_backend_comment(&sf.f, json_integer_value(json_object_get(m, "issue")),
                                       json_string_value(json_object_get(m, "body")), &ferr) == 0;
            if (!has)
                err_set(&ferr, ERR_INVALID, "the task's project has no forge");
            svc_forge_clear(&sf);
        }
        json_decref(task);
        if (!ok)
            log_warn("outbox", "comment %lld on issue %lld: attempt %d failed: %s", (long long)id,
                     (long long)json_integer_value(json_object_get(m, "issue")), attempts,
                     ferr.msg);
        if (review_comment_settle(
                c->db, id, ok,
                !ok && (attempts >= SVC_OUTBOX_MAX_ATTEMPTS || ferr.code == ERR_INVALID),
                retry > 3600 ? 3600 : retry, ok ? NULL : ferr.msg, err) < 0) {
            json_decref(due);
            return -1;
        }
        (*n)++;
    }
    json_decref(due);
    return 0;
}

static void *svc_outbox_run(void *arg)
{
    struct svc_outbox *o = arg;
    struct db db;
    struct err err = {0};
    bool open = false;

    while (!atomic_load(&o->stop)) {
        int n = 0;

        if (!open) {
            open = db_open(&db, o->dsn, &err) == 0;
            if (!open)
                db_close(&db);
        }
        if (open && (db_ensure(&db, &err) < 0 || svc_outbox_pass(&db, &n, &err) < 0))
            log_warn("outbox", "delivery pass failed: %s", err.msg);
        if (open && o->env) {
            struct svc_ctx c = {o->env, &db};
            int k = 0;

            if (svc_outbox_comments_pass(&c, &k, &err) < 0)
                log_warn("outbox", "comment pass failed: %s", err.msg);
            n += k;
        }
        if (n > 0)
            continue; /* more may be due */
        for (int i = 0; i < 10 && !atomic_load(&o->stop); i++)
            usleep(100 * 1000);
    }
    if (open)
        db_close(&db);
    return NULL;
}

struct svc_outbox *svc_outbox_start(const struct svc_env *env, const char *dsn)
{
    struct svc_outbox *o = mem_calloc(1, sizeof(*o));

    o->env = env;
    o->dsn = dsn ? mem_strdup(dsn) : NULL;
    atomic_init(&o->stop, false);
    if (pthread_create(&o->thread, NULL, svc_outbox_run, o) != 0) {
        free(o->dsn);
        free(o);
        return NULL;
    }
    return o;
}

void svc_outbox_stop(struct svc_outbox *o)
{
    if (!o)
        return;
    atomic_store(&o->stop, true);
    pthread_join(o->thread, NULL);
    free(o->dsn);
    free(o);
}

int svc_outbox_endpoint_create(struct svc_ctx *c, const char *name, const char *url,
                               const char *format, const json_t *events, const char *project,
                               const char *by, json_t **out, struct err *err)
{
    int64_t pid = 0;

    *out = NULL;
    if (project && projects_resolve(c->db, project, &pid, err) < 0)
        return -1;
    return outbox_endpoint_create(c->db, name, url, format, events, pid, by, out, err);
}

int svc_outbox_endpoint_list(struct svc_ctx *c, json_t **out, struct err *err)
{
    return outbox_endpoint_list(c->db, out, err);
}

int svc_outbox_endpoint_delete(struct svc_ctx *c, int64_t id, struct err *err)
{
    return outbox_endpoint_delete(c->db, id, err);
}

int svc_outbox_history(struct svc_ctx *c, int64_t task_id, int limit, json_t **out, struct err *err)
{
    return outbox_history(c->db, task_id, limit, out, err);
}
