/*
 * The forge module's entry points for droverd: installs the backends (forge_backend.h) into
 * the create_branch / create_pull_request hook (forge.h), and triggers preview deployments.
 */
#ifndef DROVER_FORGE_INSTALL_H
#define DROVER_FORGE_INSTALL_H

#include <jansson.h>

#include "core/err.h"
#include "store/db.h"

/*
 * Fill `forge_hooks` with the real backends. `secrets_file` (may be NULL; --forge-secrets) is
 * the file forge tokens are read from besides DROVER_FORGE_TOKEN_<PROJECT>. Call once at
 * start-up, before worker threads run.
 */
void forge_install(const char *secrets_file);

/*
 * trigger_preview_deploy: POST {"task": id, "branch", "pull_request"} to the project's
 * settings.preview_webhook, record the URL it answers ({"url"} or {"preview_url"} or a plain
 * text URL) in tasks.preview_url. *out = {"task_id", "preview_url"}. The caller checked the
 * lease. Worker threads only (blocking HTTP).
 */
int forge_install_preview(struct db *db, const json_t *task, json_t **out, struct err *err);

#endif
