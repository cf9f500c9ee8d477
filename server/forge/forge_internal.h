/*
 * What the forge backends share and nothing outside server/forge/ uses: the backend entry
 * points behind forge.h, an HTTP helper on libcurl, and a subprocess runner for git.
 * Blocking; worker threads only.
 */
#ifndef DROVER_FORGE_INTERNAL_H
#define DROVER_FORGE_INTERNAL_H

#include <jansson.h>

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

/* The result records every backend returns (owned). */
json_t *forge_backend_branch_record(const char *name, const char *sha, const char *url,
                                    bool created);
json_t *forge_backend_pr_record(enum forge_kind k, json_int_t number, const char *url,
                                const char *state, const struct forge_pr_req *req, bool created);

/* One HTTP exchange with a forge API. */
struct forge_http_resp {
    long status;
    json_t *json; /* owned; NULL when the body is not JSON */
    char *body;   /* owned, NUL-terminated (the raw body) */
};

/*
 * `method` `path` (appended to the forge's API URL) with an optional JSON body, the backend's
 * auth headers added. 0 when a response arrived (any status), -1 with ERR_UNAVAILABLE when not.
 */
int forge_http_request(const struct forge *f, const char *method, const char *path,
                       const json_t *body, struct forge_http_resp *resp, struct err *err);
void forge_http_resp_clear(struct forge_http_resp *r);
/* Percent-encode every byte outside [A-Za-z0-9._~-] (so '/' too). Owned result. */
char *forge_http_escape(const char *s);
/*
 * Map a non-2xx answer to an error: 401 -> ERR_UNAUTHORIZED, 403 -> ERR_FORBIDDEN, 404 ->
 * ERR_NOT_FOUND, 409/422/400 -> ERR_CONFLICT/ERR_INVALID, 5xx -> ERR_UNAVAILABLE, with the
 * forge's own message ("message" or "error") quoted. Returns -1.
 */
int forge_http_fail(const struct forge_http_resp *r, const char *what, struct err *err);
/* The forge's message text of an error body, or "". */
const char *forge_http_message(const struct forge_http_resp *r);

/*
 * Run `argv` (argv[0] looked up in PATH) with the current environment plus `extra_env`
 * ("NAME=value", NULL-terminated, may be NULL), stdin from /dev/null, stdout and stderr captured
 * together (first 64 KiB) into *output (owned, may be NULL). *status is the exit code, or -1
 * when killed after `timeout_s`. Returns -1 only when the program could not be started.
 */
int forge_exec_run(char *const *argv, char *const *extra_env, long timeout_s, int *status,
                   char **output, struct err *err);

#endif
