/*
 * Forge webhooks: authenticate, deduplicate, classify, apply. Worker threads.
 */
#include "svc/svc_webhooks.h"
#include "core/text.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/secret.h"
#include "core/model.h"
#include "store/projects.h"
#include "store/queue.h"
#include "store/review.h"
#include "svc/svc_forge.h"
#include "svc/svc_whevent.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Standard Webhooks: a signed delivery more than this far from now is refused (replays). */
#define SVC_WEBHOOKS_TOLERANCE_S 300
/* Reading a review's inline comments back from the forge: per request, on a slow worker. */
#define SVC_WEBHOOKS_FETCH_TIMEOUT_S 15

static const char *const svc_webhooks_names[] = {"gitea", "gitlab", "github"};

int svc_webhooks_header(const char *headers, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name);

    out[0] = '\0';
    for (const char *p = headers; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t ll = eol ? (size_t)(eol - p) : strlen(p);

        if (ll > nl + 1 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            size_t vl;

            while (*v == ' ')
                v++;
            vl = ll - (size_t)(v - p);
            if (vl == 0 || vl >= outsz)
                return 0;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return 1;
        }
        p = eol ? eol + 1 : p + ll;
    }
    return 0;
}

void svc_webhooks_hmac_hex(const char *key, size_t keylen, const char *data, size_t len,
                           char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)data, len, md, &n);
    if (n != 32)
        memset(md, 0, sizeof(md)); /* cannot happen with SHA-256; never a valid signature */
    text_hex(md, 32, out);
}

/* Equal strings, in time that depends only on their lengths. */
static bool svc_webhooks_same(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    return la == lb && la > 0 && CRYPTO_memcmp(a, b, la) == 0;
}

void svc_webhooks_secret_var(const char *project, char *out, size_t outsz)
{
    text_env_name("DROVER_WEBHOOK_SECRET_", project, out, outsz);
}

int svc_webhooks_secret(const char *project, char **out, struct err *err)
{
    char var[160];

    svc_webhooks_secret_var(project, var, sizeof(var));
    if (secret_get(var, out, err) < 0)
        return -1;
    return *out ? 0 : secret_get("DROVER_WEBHOOK_SECRET", out, err);
}

/* Standard Webhooks: any "v1,<base64>" of the header over "id.timestamp.body". */
static bool svc_webhooks_std_ok(const char *secret, const struct svc_webhooks_in *in)
{
    char id[256], ts[32], sigs[512], *save = NULL, *tok;
    unsigned char key[128], md[EVP_MAX_MD_SIZE];
    char expect[128];
    unsigned int n = 0;
    size_t klen = strlen(secret + 6), signed_len;
    char *msg;
    int kl;
    long long t;
    bool ok = false;

    if (!svc_webhooks_header(in->headers, "webhook-id", id, sizeof(id)) ||
        !svc_webhooks_header(in->headers, "webhook-timestamp", ts, sizeof(ts)) ||
        !svc_webhooks_header(in->headers, "webhook-signature", sigs, sizeof(sigs)))
        return false;
    t = strtoll(ts, NULL, 10);
    if (llabs((long long)time(NULL) - t) > SVC_WEBHOOKS_TOLERANCE_S || klen == 0 || klen > 160)
        return false;
    kl = EVP_DecodeBlock(key, (const unsigned char *)secret + 6, (int)klen);
    if (kl <= 0)
        return false;
    kl -= (secret[6 + klen - 1] == '=') + (klen > 1 && secret[6 + klen - 2] == '=');
    msg = mem_printf("%s.%s.", id, ts);
    signed_len = strlen(msg);
    msg = realloc(msg, signed_len + in->body_len + 1);
    if (!msg)
        return false;
    memcpy(msg + signed_len, in->body, in->body_len);
    HMAC(EVP_sha256(), key, kl, (unsigned char *)msg, signed_len + in->body_len, md, &n);
    free(msg);
    EVP_EncodeBlock((unsigned char *)expect, md, (int)n);
    for (tok = strtok_r(sigs, " ", &save); tok && !ok; tok = strtok_r(NULL, " ", &save))
        if (strncmp(tok, "v1,", 3) == 0)
            ok = svc_webhooks_same(tok + 3, expect);
    OPENSSL_cleanse(key, sizeof(key));
    return ok;
}

/* Does the delivery carry the forge's proof of `secret`? */
static bool svc_webhooks_verified(const char *secret, const struct svc_webhooks_in *in)
{
    char sig[300], hex[65];

    if (in->forge == SVC_WEBHOOKS_GITLAB) {
        if (strncmp(secret, "whsec_", 6) == 0)
            return svc_webhooks_std_ok(secret, in);
        return svc_webhooks_header(in->headers, "x-gitlab-token", sig, sizeof(sig)) &&
               svc_webhooks_same(sig, secret);
    }
    svc_webhooks_hmac_hex(secret, strlen(secret), in->body, in->body_len, hex);
    if (in->forge == SVC_WEBHOOKS_GITEA &&
        (svc_webhooks_header(in->headers, "x-gitea-signature", sig, sizeof(sig)) ||
         svc_webhooks_header(in->headers, "x-forgejo-signature", sig, sizeof(sig))))
        return svc_webhooks_same(sig, hex);
    if (svc_webhooks_header(in->headers, "x-hub-signature-256", sig, sizeof(sig)))
        return strncmp(sig, "sha256=", 7) == 0 && svc_webhooks_same(sig + 7, hex);
    return false;
}

/* The first of `names` (up to n, NULL-terminated early) present in the headers, into out. */
static void svc_webhooks_first_header(const char *headers, const char *const *names, size_t n,
                                      char *out, size_t outsz)
{
    out[0] = '\0';
    for (size_t i = 0; i < n && names[i]; i++)
        if (svc_webhooks_header(headers, names[i], out, outsz))
            return;
}

/* An issue addressed to Drover: one task of the project per issue. */
static int svc_webhooks_issue_task(struct svc_ctx *c, int64_t project_id,
                                   const struct svc_webhooks_in *in, const struct svc_whevent *e,
                                   int64_t *task_id, bool *created, struct err *err)
{
    struct model_task_new t = {0};
    char *title = mem_printf("%s#%lld: %s", in->forge == SVC_WEBHOOKS_GITLAB ? "issue " : "issue ",
                             e->number, e->issue_title ? e->issue_title : "(untitled)");
    char *desc = mem_printf("%s\n\n(From the %s issue %s.)",
                            e->issue_body && *e->issue_body ? e->issue_body
                            : e->issue_title                ? e->issue_title
                                                            : "",
                            svc_webhooks_names[in->forge], e->issue_url ? e->issue_url : "");
    char *key = mem_printf("forge-issue:%lld:%lld", (long long)project_id, e->number);
    json_t *task = NULL;
    int rc;

    if (strlen(title) > 480)
        title[480] = '\0';
    t.title = title;
    t.description = desc;
    t.project_id = project_id;
    t.idempotency_key = key;
    rc = queue_enqueue(c->db, &t, &task, created, err);
    if (rc == 0)
        *task_id = json_integer_value(json_object_get(task, "id"));
    if (rc == 0 && *created) {
        /* Linked back: the outbox thread posts this on the issue (and later the PR's link). */
        char *link =
            c->env->public_url && *c->env->public_url
                ? mem_printf("Drover queued task #%lld for this issue: %s/#/tasks/%lld",
                             (long long)*task_id, c->env->public_url, (long long)*task_id)
                : mem_printf("Drover queued task #%lld for this issue.", (long long)*task_id);

        rc = review_issue_link(c->db, *task_id, e->number, e->issue_author, e->author, link, err);
        free(link);
    }
    json_decref(task);
    free(title);
    free(desc);
    free(key);
    return rc;
}

/*
 * Read the inline comments of the review behind `e` back from the forge: fence (the task, a
 * read), then the forge's REST API, outside any transaction. 0 with *comments (owned; NULL when
 * there is no live task to read them for); -1 with err saying why they could not be read.
 */
static int svc_webhooks_fetch(struct svc_ctx *c, int64_t project_id, const struct svc_whevent *e,
                              json_t **comments, bool *cut, struct err *err)
{
    struct forge_review_ref ref = {.number = e->number,
                                   .review_id = e->review_id,
                                   .author = e->author,
                                   .state = e->review_state};
    struct svc_forge sf;
    json_t *task = NULL;
    int64_t task_id = 0;
    bool has_forge = false;
    int rc = -1;

    *comments = NULL;
    memset(&sf, 0, sizeof(sf));
    if (review_find_task(c->db, project_id, e->number, e->branch, &task_id, err) < 0)
        return -1;
    if (!task_id)
        return 0;
    if (queue_get(c->db, task_id, &task, err) < 0)
        return -1;
    if (model_state_terminal(json_string_value(json_object_get(task, "state")))) {
        rc = 0;
        goto out;
    }
    if (svc_forge_resolve(c, project_id, task, &sf, &has_forge, err) < 0)
        goto out;
    if (!has_forge || sf.f.kind == FORGE_GIT) {
        err_set(err, ERR_INVALID, "the project has no forge API to read them from");
        goto out;
    }
    sf.f.timeout_s = SVC_WEBHOOKS_FETCH_TIMEOUT_S;
    if (ref.number <= 0 && json_is_object(json_object_get(task, "pull_request")))
        ref.number =
            json_integer_value(json_object_get(json_object_get(task, "pull_request"), "number"));
    rc = forge_backend_review_comments(&sf.f, &ref, comments, cut, err);
out:
    svc_forge_clear(&sf);
    json_decref(task);
    return rc;
}

/* Keep the fetched inline comments (the forge's ids keep each once). */
static int svc_webhooks_keep_inline(struct svc_ctx *c, int64_t task_id, const json_t *comments,
                                    struct err *err)
{
    size_t i;
    json_t *x;

    json_array_foreach(comments, i, x)
    {
        struct review_comment rc = {
            .kind = "inline",
            .author = json_string_value(json_object_get(x, "author")),
            .body = json_string_value(json_object_get(x, "body")),
            .path = json_string_value(json_object_get(x, "path")),
            .line = json_integer_value(json_object_get(x, "line")),
            .forge_id = json_string_value(json_object_get(x, "id")),
            .diff_hunk = json_string_value(json_object_get(x, "diff_hunk")),
            .position = json_integer_value(json_object_get(x, "position")),
            .url = json_string_value(json_object_get(x, "url")),
        };

        struct err bad = {0};

        if (!rc.body || !*rc.body)
            continue;
        if (review_add_comment(c->db, task_id, &rc, &bad) == 0)
            continue;
        if (bad.code != ERR_INVALID) { /* the database: the forge's retry gets another chance */
            *err = bad;
            return -1;
        }
        log_warn("webhooks", "task %lld: an inline comment on %s was not kept: %s",
                 (long long)task_id, rc.path ? rc.path : "?", bad.msg);
    }
    return 0;
}

/* What the review's read from the forge left out, on the task's activity: the inline comments
 * it could not read (`fetch_err`), or those past the bound (`cut`). */
static int svc_webhooks_fetch_notes(struct svc_ctx *c, int64_t task_id,
                                    const struct svc_webhooks_in *in, const struct svc_whevent *e,
                                    bool cut, const struct err *fetch_err, struct err *err)
{
    const char *forge = svc_webhooks_names[in->forge];
    char *msg;
    int rc = 0;

    if (fetch_err) {
        /* The rework still happens, with the review's summary; say what is missing. */
        json_t *meta = json_pack("{s:s,s:s}", "forge", forge, "error", fetch_err->msg);

        msg = mem_printf("the review's inline comments could not be fetched from %s: %s%s", forge,
                         fetch_err->msg,
                         e->rework ? "; the rework carries the review's summary only" : "");
        rc = review_note(c->db, task_id, msg, meta, err);
        free(msg);
        json_decref(meta);
    }
    if (rc == 0 && cut) {
        /* A thread longer than one rework reads: the first ones are kept, say so. */
        msg = mem_printf("the review thread on %s has more inline comments than a rework reads "
                         "(%d, or 1 MiB of text): the first ones were kept",
                         forge, FORGE_REVIEW_MAX_COMMENTS);
        rc = review_note(c->db, task_id, msg, NULL, err);
        free(msg);
    }
    return rc;
}

/* Apply a classified delivery to its task. *outcome is a static string. */
static int svc_webhooks_apply(struct svc_ctx *c, int64_t project_id,
                              const struct svc_webhooks_in *in, const struct svc_whevent *e,
                              const json_t *inline_c, bool cut, const struct err *fetch_err,
                              int64_t *task_id, const char **outcome, bool *created,
                              struct err *err)
{
    char actor[260];
    json_t *t = NULL, *fields = NULL;
    char state[32];
    int rc = -1;

    *task_id = 0;
    *created = false;
    snprintf(actor, sizeof(actor), "%s:%s", svc_webhooks_names[in->forge],
             e->author && *e->author ? e->author : "webhook");
    if (e->kind == SVC_WHEVENT_IGNORE || e->kind == SVC_WHEVENT_PING) {
        *outcome = e->kind == SVC_WHEVENT_PING ? "pong" : "ignored";
        return 0;
    }
    if (e->kind == SVC_WHEVENT_ISSUE) {
        if (svc_webhooks_issue_task(c, project_id, in, e, task_id, created, err) < 0)
            return -1;
        *outcome = *created ? "task_created" : "task_exists";
        return 0;
    }
    if (review_find_task(c->db, project_id, e->number, e->branch, task_id, err) < 0)
        return -1;
    if (!*task_id) {
        *outcome = "no_task"; /* a pull request Drover did not open */
        return 0;
    }
    if (queue_get(c->db, *task_id, &t, err) < 0)
        return -1;
    snprintf(state, sizeof(state), "%s", json_string_value(json_object_get(t, "state")));
    if (e->kind == SVC_WHEVENT_MERGED || e->kind == SVC_WHEVENT_CLOSED ||
        e->kind == SVC_WHEVENT_REOPENED) {
        fields = json_pack("{s:s}", "state",
                           e->kind == SVC_WHEVENT_MERGED   ? "merged"
                           : e->kind == SVC_WHEVENT_CLOSED ? "closed"
                                                           : "open");
        if (e->url)
            json_object_set_new(fields, "url", json_string(e->url));
        if (review_pr_update(c->db, *task_id, fields, err) < 0)
            goto out;
    }
    json_decref(t);
    t = NULL;
    switch (e->kind) {
    case SVC_WHEVENT_REOPENED:
        *outcome = "pr_state"; /* a cancelled task stays cancelled: retry it to work again */
        break;
    case SVC_WHEVENT_MERGED:
        if (strcmp(state, "ready_to_test") != 0) {
            *outcome = "merged_noted";
            break;
        }
        if (review_accept(c->db, *task_id, actor, "pull request merged", &t, err) < 0)
            goto out;
        *outcome = "completed";
        break;
    case SVC_WHEVENT_CLOSED:
        if (model_state_terminal(state)) {
            *outcome = "closed_noted";
            break;
        }
        if (queue_cancel(c->db, *task_id, actor, "the pull request was closed without merging", &t,
                         err) < 0)
            goto out;
        *outcome = "cancelled";
        break;
    default: /* SVC_WHEVENT_COMMENT */
    {
        struct review_comment kept = {.kind = e->ckind ? e->ckind : "comment",
                                      .author = e->author,
                                      .body = e->body,
                                      .path = e->path,
                                      .line = e->line,
                                      .forge_id = e->forge_id,
                                      .diff_hunk = e->diff_hunk,
                                      .position = e->position,
                                      .url = e->curl};

        if (e->body && *e->body && review_add_comment(c->db, *task_id, &kept, err) < 0)
            goto out;
    }
        if (svc_webhooks_keep_inline(c, *task_id, inline_c, err) < 0)
            goto out;
        if (!model_state_terminal(state) &&
            svc_webhooks_fetch_notes(c, *task_id, in, e, cut, fetch_err, err) < 0)
            goto out;
        if (!e->rework) {
            *outcome = "comment_kept";
            break;
        }
        if (strcmp(state, "ready_to_test") != 0) {
            *outcome = "comment_kept"; /* the next rework (or the one under way) reads it */
            break;
        }
        /* Who asked, on the forge: shown on the task, as the issue's people are. */
        if (review_set_requester(c->db, *task_id, e->author, err) < 0)
            goto out;
        if (review_rework(c->db, *task_id, actor,
                          e->body && *e->body ? NULL : "the reviewer requested changes", &t,
                          err) < 0)
            goto out;
        *outcome = "rework";
        break;
    }
    rc = 0;
out:
    json_decref(t);
    json_decref(fields);
    return rc;
}

int svc_webhooks_receive(struct svc_ctx *c, const struct svc_webhooks_in *in, int *status,
                         json_t **out, bool *reroute, struct err *err)
{
    const struct svc_whevent_dialect *dialect;
    struct svc_whevent e;
    struct err ferr = {0};
    json_t *inline_c = NULL;
    bool fetch_failed = false, cut = false;
    char event[128], delivery[256], sha[65];
    const char *outcome = "ignored", *mention, *label;
    char *secret = NULL;
    json_t *project = NULL, *body = NULL, *settings;
    int64_t project_id = 0, row = 0, task_id = 0;
    struct err perr = {0};
    bool fresh = false, created = false;
    int rc = -1;

    *out = NULL;
    *status = 200;
    *reroute = false;
    delivery[0] = '\0';
    memset(&e, 0, sizeof(e));
    /* Authenticate before anything else: unknown project, no secret and a bad signature look
     * the same from outside, and none of them changes anything. */
    if (in->project && svc_webhooks_secret(in->project, &secret, &perr) < 0) {
        /* The operator's mistake, not the sender's: say so in the log, 503 to the forge,
         * which retries. */
        log_warn("webhooks", "delivery for project %s refused: %s", in->project, perr.msg);
        return err_set(err, ERR_UNAVAILABLE, "the webhook secret cannot be read, retry shortly");
    }
    if (!secret || projects_resolve(c->db, in->project, &project_id, &perr) < 0 ||
        projects_get_id(c->db, project_id, &project, &perr) < 0 ||
        !svc_webhooks_verified(secret, in)) {
        if (perr.code == ERR_UNAVAILABLE)
            return err_set(err, ERR_UNAVAILABLE, "database unavailable, retry shortly");
        err_set(err, ERR_UNAUTHORIZED,
                "the delivery is not authenticated: unknown project, no webhook secret "
                "configured for it, or a signature or token that does not match");
        err->reason = "bad_signature";
        goto out;
    }
    body = json_loadb(in->body, in->body_len, 0, NULL);
    if (!json_is_object(body)) {
        err_set(err, ERR_INVALID, "the delivery's body is not a JSON object");
        goto out;
    }
    settings = json_object_get(project, "settings");
    mention = json_string_value(json_object_get(settings, "review_mention"));
    label = json_string_value(json_object_get(settings, "issue_label"));
    if (!mention)
        mention = "@drover";
    if (!label)
        label = "drover";
    dialect = svc_whevent_dialect(in->forge);
    svc_webhooks_first_header(in->headers, dialect->event_hdr,
                              sizeof(dialect->event_hdr) / sizeof(dialect->event_hdr[0]), event,
                              sizeof(event));
    if (dialect->idempotency_key && in->idempotency_key && *in->idempotency_key)
        snprintf(delivery, sizeof(delivery), "%s", in->idempotency_key);
    else
        svc_webhooks_first_header(in->headers, dialect->delivery_hdr,
                                  sizeof(dialect->delivery_hdr) / sizeof(dialect->delivery_hdr[0]),
                                  delivery, sizeof(delivery));
    if (event[0]) {
        const char *action = svc_whevent_str(body, dialect->action);

        snprintf(e.name, sizeof(e.name), "%.120s%s%.60s", event, action ? "." : "",
                 action ? action : "");
        dialect->classify(event, action, body, mention, label, &e);
    }
    if (!e.name[0])
        snprintf(e.name, sizeof(e.name), "%.120s", event[0] ? event : "unknown");
    {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;

        EVP_Digest(in->body, in->body_len, md, &n, EVP_sha256(), NULL);
        text_hex(md, 32, sha);
    }
    if (!delivery[0])
        snprintf(delivery, sizeof(delivery), "sha256:%s", sha);
    if (e.fetch && in->fast_worker) {
        /* Nothing recorded yet: run again on a slow worker, which may wait on the forge. */
        *reroute = true;
        rc = 0;
        goto out;
    }
    if (review_delivery_claim(c->db, project_id, svc_webhooks_names[in->forge], delivery, sha,
                              e.name, &row, &fresh, err) < 0)
        goto out;
    if (!fresh) {
        *out = json_pack("{s:s,s:s}", "result", "duplicate", "event", e.name);
        rc = 0;
        goto out;
    }
    /* Recorded, no transaction open: read the review's inline comments from the forge. A
     * failure is noted on the task and the rework goes on with the review's summary. */
    if (e.fetch && svc_webhooks_fetch(c, project_id, &e, &inline_c, &cut, &ferr) < 0) {
        fetch_failed = true;
        log_warn("webhooks",
                 "%s delivery %s for project %s: the review's inline comments could "
                 "not be fetched: %s",
                 svc_webhooks_names[in->forge], delivery, in->project, ferr.msg);
    }
    if (svc_webhooks_apply(c, project_id, in, &e, inline_c, cut, fetch_failed ? &ferr : NULL,
                           &task_id, &outcome, &created, err) < 0) {
        review_delivery_forget(c->db, row); /* the forge's retry gets another chance */
        goto out;
    }
    if (review_delivery_done(c->db, row, task_id, outcome, err) < 0)
        goto out;
    log_info("webhooks", "%s delivery %s (%s) for project %s: %s%s%lld",
             svc_webhooks_names[in->forge], delivery, e.name, in->project, outcome,
             task_id ? ", task " : "", (long long)task_id);
    *out = json_pack("{s:s,s:s}", "result", outcome, "event", e.name);
    if (task_id)
        json_object_set_new(*out, "task_id", json_integer(task_id));
    *status = created ? 202 : 200;
    rc = 0;
out:
    json_decref(inline_c);
    json_decref(project);
    json_decref(body);
    secret_free(secret);
    return rc;
}

int svc_webhooks_deliveries(struct svc_ctx *c, const char *project, int limit, json_t **out,
                            struct err *err)
{
    int64_t id;

    *out = NULL;
    if (projects_resolve(c->db, project, &id, err) < 0)
        return -1;
    return review_deliveries(c->db, id, limit, out, err);
}
