/* Accept, rework, reject; submitters and what a developer may act on. Worker threads. */
#include "svc/svc_review.h"
#include "store/review.h"
#include "svc/svc_prclose.h"
#include "svc/svc_tasks.h"

#include <string.h>

int svc_review_accept(struct svc_ctx *c, int64_t id, const char *actor, const char *comment,
                      json_t **task, struct err *err)
{
    json_t *t = NULL;
    int rc = review_accept(c->db, id, actor, comment, &t, err);

    /* Committed: the superseded siblings' pull requests are closed now, outside it. */
    if (rc == 0)
        svc_prclose_after_accept(c, id);
    return svc_tasks_after_move(c, id, rc, t, task, err);
}

int svc_review_rework(struct svc_ctx *c, int64_t id, const char *actor, const char *instructions,
                      json_t **task, struct err *err)
{
    json_t *t = NULL;
    int rc = review_rework(c->db, id, actor, instructions, &t, err);

    return svc_tasks_after_move(c, id, rc, t, task, err);
}

int svc_review_reject(struct svc_ctx *c, int64_t id, const char *actor, const char *why,
                      json_t **task, struct err *err)
{
    json_t *t = NULL;
    int rc = review_reject(c->db, id, actor, why, &t, err);

    return svc_tasks_after_move(c, id, rc, t, task, err);
}

int svc_review_submitted(struct svc_ctx *c, int64_t id, const struct principal *who,
                         struct err *err)
{
    if (!who)
        return 0;
    return review_set_submitter(c->db, id, who->name[0] ? who->name : NULL, who->token_id, err);
}

int svc_review_authorize(struct svc_ctx *c, const struct principal *who, int64_t id,
                         struct err *err)
{
    long long owner = 0;
    char access[16];

    if (!who || who->scope != PRINCIPAL_DEVELOPER)
        return 0;
    if (review_owner(c->db, id, &owner, access, err) < 0)
        return -1;
    if (strcmp(access, "project") == 0 || (owner > 0 && owner == who->token_id))
        return 0;
    return err_set(err, ERR_FORBIDDEN,
                   "task %lld was submitted by someone else; a developer acts on its own tasks "
                   "(or on a project's, with the project setting \"developer_access\": "
                   "\"project\")",
                   (long long)id);
}
