/* create_pull_request. Worker threads. */
#include "svc/svc_pull.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/model.h"
#include "core/text.h"
#include "store/branches.h"
#include "store/review.h"
#include "svc/svc_forge.h"
#include "svc/svc_prbody.h"

#include <stdlib.h>
#include <string.h>

static int svc_pull_check(const char *field, const char *s, size_t max, struct err *err)
{
    if (s && (!text_utf8_valid(s, strlen(s)) || text_utf8_chars(s) > max))
        return err_set(err, ERR_INVALID, "%s must be valid UTF-8 of at most %zu characters", field,
                       max);
    return 0;
}

/* Open `pr` on the task's forge and copy what it answered into `pr`. No transaction open. */
static int svc_pull_on_forge(struct svc_ctx *c, const struct branches_lease *l, json_t *pr,
                             struct err *err)
{
    struct forge_pr_req req = {
        .head = json_string_value(json_object_get(pr, "head")),
        .base = json_string_value(json_object_get(pr, "base")),
        .title = json_string_value(json_object_get(pr, "title")),
        .body = json_string_value(json_object_get(pr, "body")),
    };
    struct svc_forge sf;
    json_t *out = NULL, *people = NULL, *w;
    char *body = NULL, *labels = NULL;
    const char *person;
    size_t i;
    bool has_forge;
    int rc = -1;

    if (svc_forge_resolve(c, l->project_id, l->task, &sf, &has_forge, err) < 0)
        return -1;
    if (!has_forge)
        return 0;
    /* What a reviewer reads, and the team's options (svc/svc_prbody.h). */
    body = svc_prbody_compose(l->task, req.body, c->env->public_url);
    req.body = body;
    svc_prbody_options(json_object_get(sf.project, "settings"), &req, &labels);
    /* A task a forge issue created: its author (else whoever asked) reviews, on that forge. */
    person = json_string_value(json_object_get(l->task, "forge_author"));
    if (!person)
        person = json_string_value(json_object_get(l->task, "forge_requester"));
    svc_prbody_people(json_object_get(sf.project, "settings"), l->submitter, person, &req, &people);
    if (forge_backend_create_pull_request(&sf.f, &req, &out, err) < 0)
        goto out;
    /* An option the forge refused left the pull request open without it: say so on the task. */
    json_array_foreach(json_object_get(out, "warnings"), i, w)
    {
        struct err ne = {0};
        const char *u = json_string_value(json_object_get(out, "url"));
        char *msg = mem_printf("pull request %s: %s", u ? u : "", json_string_value(w));

        if (review_note(c->db, json_integer_value(json_object_get(l->task, "id")), msg, NULL, &ne) <
            0)
            log_warn("forge", "task note failed: %s", ne.msg);
        free(msg);
    }
    if (req.draft)
        json_object_set_new(pr, "draft", json_true());
    json_object_set(pr, "forge", json_object_get(out, "forge"));
    json_object_set(pr, "number", json_object_get(out, "number"));
    json_object_set(pr, "url", json_object_get(out, "url"));
    json_object_set(pr, "state", json_object_get(out, "state"));
    log_info("forge", "task=%lld pull_request head=%s forge=%s created=%d",
             (long long)json_integer_value(json_object_get(l->task, "id")), req.head,
             forge_backend_kind_name(sf.f.kind), json_is_true(json_object_get(out, "created")));
    rc = 0;
out:
    json_decref(out);
    json_decref(people);
    svc_forge_clear(&sf);
    free(body);
    free(labels);
    return rc;
}

int svc_pull_create(struct svc_ctx *c, const char *agent_id, int64_t task_id, int64_t epoch,
                    const struct svc_pull_req *req, json_t **out, struct err *err)
{
    struct branches_lease l;
    struct err fence = {0};
    const char *head = req->head;
    json_t *pr = NULL;
    int rc = -1;

    *out = NULL;
    if (!req->title || !*req->title ||
        svc_pull_check("title", req->title, MODEL_PR_TITLE_MAX, err) < 0)
        return err_set(err, ERR_INVALID, "title must be 1 to %d characters", MODEL_PR_TITLE_MAX);
    if (svc_pull_check("body", req->body, MODEL_PR_BODY_MAX, err) < 0)
        return -1;
    if ((req->head && !model_branch_name_valid(req->head)) ||
        (req->base && !model_branch_name_valid(req->base)))
        return err_set(err, ERR_INVALID, "head and base must be valid git branch names");
    if (branches_fence(c->db, agent_id, task_id, epoch, &l, err) < 0)
        return -1;
    if (l.pr) {
        *out = json_pack("{s:I,s:O,s:b}", "task_id", (json_int_t)task_id, "pull_request", l.pr,
                         "created", 0);
        rc = 0;
        goto out;
    }
    if (!head)
        head = l.branch;
    if (!head) {
        err_set(err, ERR_CONFLICT, "task %lld has no branch yet: call create_branch first",
                (long long)task_id);
        goto out;
    }
    pr = json_pack("{s:s,s:s,s:s,s:s}", "title", req->title, "head", head, "base",
                   req->base ? req->base : svc_forge_base(l.task), "state", "open");
    if (req->body)
        json_object_set_new(pr, "body", json_string(req->body));
    /* Outside any transaction: a slow forge holds no row lock and no other request waits. */
    if (svc_pull_on_forge(c, &l, pr, err) < 0)
        goto out;
    json_object_del(pr, "body"); /* the body lives on the forge, not in every task read */
    if (branches_record_pr(c->db, agent_id, task_id, epoch, pr, out, &fence, err) < 0)
        goto out;
    if (fence.code != ERR_OK) {
        json_decref(*out); /* recorded all the same: the pull request exists on the forge now */
        *out = NULL;
        *err = fence;
        goto out;
    }
    rc = 0;
out:
    json_decref(pr);
    branches_lease_clear(&l);
    return rc;
}
