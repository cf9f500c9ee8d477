/* Pull-request bodies and options. Pure; any thread. */
#include "svc/svc_prbody.h"
#include "core/buf.h"
#include "core/mem.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SVC_PRBODY_PROMPT_MAX 4000 /* bytes of the prompt quoted in the collapsed section */

char *svc_prbody_compose(const json_t *task, const char *agent_body, const char *public_url)
{
    const char *title = json_string_value(json_object_get(task, "title"));
    const char *desc = json_string_value(json_object_get(task, "description"));
    const char *branch = json_string_value(json_object_get(task, "branch"));
    const char *base = json_string_value(json_object_get(task, "base_branch"));
    long long id = json_integer_value(json_object_get(task, "id"));
    struct buf b;
    size_t dl = desc ? strlen(desc) : 0;

    buf_init(&b, 65536);
    /* The agent's summary, unless what it sent is the prompt itself (the runner's fallback). */
    bool is_prompt = agent_body && desc && strstr(agent_body, desc) &&
                     (dl >= 20 || (title && strncmp(agent_body, title, strlen(title)) == 0));

    if (agent_body && *agent_body && !is_prompt)
        buf_appendf(&b, "%s\n\n", agent_body);
    buf_appendf(&b, "---\n**Drover task #%lld**: %s\n", id, title ? title : "");
    if (public_url && *public_url) {
        size_t ul = strlen(public_url);

        while (ul > 0 && public_url[ul - 1] == '/')
            ul--;
        buf_appendf(&b, "Task: %.*s/#/tasks/%lld · transcript: %.*s/api/tasks/%lld/logs\n", (int)ul,
                    public_url, id, (int)ul, public_url, id);
    }
    if (branch)
        buf_appendf(&b, "Branch `%s` into `%s`.\n", branch, base ? base : "main");
    if (dl) {
        buf_appendf(&b,
                    "\n<details><summary>The task as submitted</summary>\n\n%.*s%s\n\n</details>\n",
                    (int)(dl > SVC_PRBODY_PROMPT_MAX ? SVC_PRBODY_PROMPT_MAX : dl), desc,
                    dl > SVC_PRBODY_PROMPT_MAX ? " …" : "");
    }
    return buf_take(&b, NULL);
}

void svc_prbody_options(const json_t *settings, struct forge_pr_req *req, char **labels)
{
    const json_t *l = json_object_get(settings, "pr_labels");

    *labels = NULL;
    req->draft = json_is_true(json_object_get(settings, "pr_draft"));
    req->remove_source_branch = json_is_true(json_object_get(settings, "pr_remove_source_branch"));
    req->squash = json_is_true(json_object_get(settings, "pr_squash"));
    if (json_is_string(l)) {
        *labels = mem_strdup(json_string_value(l));
    } else if (json_is_array(l)) {
        struct buf b;
        size_t i;
        json_t *v;

        buf_init(&b, 4096);
        json_array_foreach(l, i, v)
        {
            if (json_is_string(v))
                buf_appendf(&b, "%s%s", b.len ? "," : "", json_string_value(v));
        }
        *labels = b.len ? buf_take(&b, NULL) : NULL;
        if (!*labels)
            buf_clear(&b);
    }
    req->labels = *labels;
    /* GitLab user ids only (the forge's, not Drover's token names): integers, else ignored. */
    for (int k = 0; k < 2; k++) {
        const json_t *ids = json_object_get(settings, k ? "pr_assignee_ids" : "pr_reviewer_ids");
        bool ok = json_is_array(ids) && json_array_size(ids) > 0;
        size_t i;
        json_t *v;

        json_array_foreach(ids, i, v) ok = ok && json_is_integer(v) && json_integer_value(v) > 0;
        if (k)
            req->assignee_ids = ok ? ids : NULL;
        else
            req->reviewer_ids = ok ? ids : NULL;
    }
}

/* The strings of `v` (a list, else one string) plus `extra`, each once, into `into`. */
static void svc_prbody_names(json_t *into, const json_t *v, const char *extra)
{
    json_t *one = json_is_string(v) ? json_pack("[O]", v) : NULL, *x;
    size_t i;

    if (one)
        v = one;
    json_array_foreach(v, i, x)
    {
        const char *n = json_string_value(x);
        bool dup = false;
        size_t k;
        json_t *y;

        json_array_foreach(into, k, y) dup = dup || (n && strcmp(json_string_value(y), n) == 0);
        if (n && *n && strlen(n) <= 100 && !dup)
            json_array_append_new(into, json_string(n));
    }
    json_decref(one);
    if (extra && *extra) {
        x = json_pack("[s]", extra);
        svc_prbody_names(into, x, NULL);
        json_decref(x);
    }
}

void svc_prbody_people(const json_t *settings, const char *submitter, const char *forge_login,
                       struct forge_pr_req *req, json_t **own)
{
    const json_t *logins = json_object_get(settings, "forge_logins");
    const char *login =
        submitter && *submitter ? json_string_value(json_object_get(logins, submitter)) : NULL;
    json_t *rv = json_array(), *as = json_array();
    json_t *person = forge_login && *forge_login ? json_pack("[s]", forge_login) : NULL;

    svc_prbody_names(rv, json_object_get(settings, "pr_reviewers"), login);
    svc_prbody_names(as, json_object_get(settings, "pr_assignees"), login);
    /* A login the forge's own webhook named needs no mapping. */
    svc_prbody_names(rv, person, NULL);
    svc_prbody_names(as, person, NULL);
    json_decref(person);
    *own = json_pack("{s:o,s:o}", "reviewers", rv, "assignees", as);
    req->reviewers = json_array_size(rv) ? rv : NULL;
    req->assignees = json_array_size(as) ? as : NULL;
}
