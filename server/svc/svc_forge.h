/*
 * Which forge a task's branch and pull request go to: the task's project's forge settings
 * (store/projects.c) and its token (forge_backend_token_lookup), as a `struct forge` for the
 * backends in forge/. Worker threads.
 */
#ifndef DROVER_SVC_FORGE_H
#define DROVER_SVC_FORGE_H

#include <jansson.h>
#include <stdbool.h>

#include "forge/forge_backend.h"
#include "svc/svc.h"

/* A resolved forge: the struct the backends take, and what its borrowed strings point into. */
struct svc_forge {
    struct forge f;
    json_t *project;     /* owned */
    char *token;         /* owned secret: wiped on clear */
    char expires_at[32]; /* a short-lived token's expiry (GitHub App), else "" */
};

/*
 * Resolve the forge of project `project_id` for `task` (the task JSON: its repository URL).
 * A task without a project has no forge settings and no credentials: *has_forge is false and
 * its branch and pull request are only recorded (the agent pushes the branch itself).
 */
int svc_forge_resolve(struct svc_ctx *c, int64_t project_id, const json_t *task,
                      struct svc_forge *sf, bool *has_forge, struct err *err);
void svc_forge_clear(struct svc_forge *sf);

/* The base branch of `task` (its own, its project's, else the model's default). Borrowed. */
const char *svc_forge_base(const json_t *task);

/*
 * Where project `project`'s credentials may go: DROVER_FORGE_ALLOW_<PROJECT> (URL prefixes; the
 * name spelt as for DROVER_FORGE_TOKEN_<PROJECT>), else DROVER_FORGE_ALLOW, else NULL (the
 * forge's own origin).
 */
const char *svc_forge_allow(const struct svc_ctx *c, const char *project);

#endif
