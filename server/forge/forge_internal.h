/*
 * What the forge backends share and nothing outside server/forge/ uses: the backend entry
 * points behind forge.h, forge REST exchanges on the shared HTTP client (core/http.h; paths
 * are escaped with http_escape), and a subprocess runner for git.
 * Blocking; worker threads only.
 */
#ifndef DROVER_FORGE_INTERNAL_H
#define DROVER_FORGE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "core/err.h"
#include "forge/forge_backend.h"

int forge_git_create_branch(const struct forge *f, const char *name, const char *base, json_t **out,
                            struct err *err);
int forge_git_create_pull_request(const struct forge *f, const struct forge_pr_req *req,
                                  json_t **out, struct err *err);
int forge_gitea_create_branch(const struct forge *f, const char *name, const char *base,
                              json_t **out, struct err *err);
int forge_gitea_create_pull_request(const struct forge *f, const struct forge_pr_req *req,
                                    json_t **out, struct err *err);
int forge_gitlab_create_branch(const struct forge *f, const char *name, const char *base,
                               json_t **out, struct err *err);
int forge_gitlab_create_pull_request(const struct forge *f, const struct forge_pr_req *req,
                                     json_t **out, struct err *err);
int forge_github_create_branch(const struct forge *f, const char *name, const char *base,
                               json_t **out, struct err *err);
int forge_github_create_pull_request(const struct forge *f, const struct forge_pr_req *req,
                                     json_t **out, struct err *err);

/* forge_backend_probe for a plain git remote: ls-remote of `base` (the token as for a push). */
int forge_git_probe(const struct forge *f, const char *base, json_t **out, struct err *err);

/* The result records every backend returns (owned). */
json_t *forge_backend_branch_record(const char *name, const char *sha, const char *url,
                                    bool created);
json_t *forge_backend_pr_record(enum forge_kind k, json_int_t number, const char *url,
                                const char *state, const struct forge_pr_req *req, bool created);

/* The names of a comma-separated label setting (blanks trimmed, empty ones dropped). Owned. */
json_t *forge_propts_labels(const char *labels);
/* Append "<what>: <e's message>" to out's "warnings" array (made when absent). */
void forge_propts_warn(json_t *out, const char *what, const struct err *e);
/*
 * GitHub, after pull request `number` was created: its labels, requested reviewers and
 * assignees from `req`, each call's refusal a warning on `out` (never an error).
 */
void forge_propts_github(const struct forge *f, long long number, const struct forge_pr_req *req,
                         json_t *out);
/*
 * Gitea/Forgejo: the ids of the label names in `labels` (*ids, owned): the repository's, else
 * its organisation's (when the owner is one; a user owner's 404 there means none); names
 * neither has are appended to `missing`. -1 with err when a list could not be read.
 */
int forge_propts_gitea_label_ids(const struct forge *f, const char *labels, json_t **ids,
                                 json_t *missing, struct err *err);

/* One HTTP exchange with a forge API. */
struct forge_http_resp {
    long status;
    json_t *json;    /* owned; NULL when the body is not JSON */
    char *body;      /* owned, NUL-terminated (the raw body) */
    char *link;      /* the Link header (owned), or NULL */
    char *next_page; /* GitLab's X-Next-Page header (owned), or NULL */
};

/*
 * `method` `path` (appended to the forge's API URL) with an optional JSON body, the backend's
 * auth headers added. 0 when a response arrived (any status), -1 with ERR_UNAVAILABLE when not.
 */
int forge_http_request(const struct forge *f, const char *method, const char *path,
                       const json_t *body, struct forge_http_resp *resp, struct err *err);
void forge_http_resp_clear(struct forge_http_resp *r);
/*
 * Map a non-2xx answer to an error: 401 -> ERR_UNAUTHORIZED, 403 -> ERR_FORBIDDEN, 404 ->
 * ERR_NOT_FOUND, 409/422/400 -> ERR_CONFLICT/ERR_INVALID, 5xx -> ERR_UNAVAILABLE, with the
 * forge's own message ("message" or "error") quoted. Returns -1.
 */
int forge_http_fail(const struct forge_http_resp *r, const char *what, struct err *err);
/* The forge's message text of an error body, or "". */
const char *forge_http_message(const struct forge_http_resp *r);

/*
 * `method` `path` with `body` (may be NULL) where any 2xx answer is success and its body is not
 * needed (a comment, a close, a label): 0, or -1 with err (forge_http_fail with `what` for a
 * non-2xx answer; ERR_UNAVAILABLE when none arrived).
 */
int forge_http_send(const struct forge *f, const char *method, const char *path, const json_t *body,
                    const char *what, struct err *err);

/*
 * GET `path` and expect 200 with a JSON value of `type` (JSON_OBJECT or JSON_ARRAY).
 * 0 with *json set (owned); 1 when the forge answered something else (err set by
 * forge_http_fail with `what`, so a 404 reads ERR_NOT_FOUND); -1 when no answer arrived.
 */
int forge_http_get_json(const struct forge *f, const char *path, json_type type, const char *what,
                        json_t **json, struct err *err);

/*
 * GET every page of the JSON array at `path` (which names its page size: per_page, limit),
 * as each forge publishes its pagination: GitLab's X-Next-Page header (the next page's number,
 * empty on the last), else the Link header's rel="next" URL (GitHub, Gitea/Forgejo, GitLab's
 * keyset lists). A next page is followed only under the API path of f->api_url, and asked of
 * f->api_url itself, so the token never goes where a header points. At most `max_items` items
 * and FORGE_PAGES_MAX pages: *cut is true when the forge had more (or named a next page
 * elsewhere). 0 with *items (owned); 1 / -1 as forge_http_get_json (forge_pages.c).
 */
#define FORGE_PAGES_MAX 100
int forge_pages_get(const struct forge *f, const char *path, const char *what, size_t max_items,
                    json_t **items, bool *cut, struct err *err);
/* The path of the page after `path` by the headers of its answer `r`, or NULL (owned). */
char *forge_pages_next(const struct forge *f, const char *path, const struct forge_http_resp *r,
                       bool *elsewhere);

/*
 * One idempotent create operation of a backend (a static const per operation): POST, where one
 * status means "it may already exist". That status is 409 on Gitea, but GitLab answers 400 and
 * GitHub 422 for an existing object and for real validation failures alike, so only the
 * backend's `existing` lookup can tell.
 */
struct forge_http_create {
    const char *what;   /* "creating the branch": the context of error messages */
    long exists_status; /* the answer that may mean "already exists" */
    /*
     * Read back what `conflict` (the POST's answer with exists_status) may be about: 0 with
     * *found set (owned), or -1 with err set. A lookup that finds nothing usually means the
     * conflict was a real failure: forge_http_fail(conflict, op->what, err).
     */
    int (*existing)(const struct forge *f, const struct forge_http_create *op, const void *ctx,
                    const struct forge_http_resp *conflict, json_t **found, struct err *err);
    /* The result record (owned) from the forge's object: the 201 answer or what was found. */
    json_t *(*record)(const void *ctx, const json_t *object, bool created);
};

/*
 * Run `op`: POST `body` (NULL: an empty POST) to `path`; `ctx` is handed to op's callbacks.
 * 0 with *out = op->record(...) of what was made (201 with a JSON object; "created": true) or
 * of what already existed (`existing` succeeded; false). -1 with err: no answer
 * (ERR_UNAVAILABLE), the lookup's error, or forge_http_fail's mapping of any other answer (a
 * body that is not JSON included); *out is untouched then.
 */
int forge_http_create(const struct forge *f, const struct forge_http_create *op, const char *path,
                      const json_t *body, const void *ctx, json_t **out, struct err *err);

/*
 * Run `argv` (argv[0] looked up in PATH) with the current environment plus `extra_env`
 * ("NAME=value", NULL-terminated, may be NULL), stdin from /dev/null, stdout and stderr captured
 * together (first 64 KiB) into *output (owned, may be NULL). *status is the exit code, or -1
 * when killed after `timeout_s`. Returns -1 only when the program could not be started.
 */
int forge_exec_run(char *const *argv, char *const *extra_env, long timeout_s, int *status,
                   char **output, struct err *err);

#endif
