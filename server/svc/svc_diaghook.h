/*
 * The diagnostics check `webhook:<project>`: does the project's forge deliver to Drover? Given
 * the repository's webhooks (forge_backend_hooks), find the one whose URL is Drover's endpoint
 * for the project (POST /api/hooks/forge/<gitea|gitlab|github>/<project>, api/forgehooks.c:
 * under DROVER_PUBLIC_URL when that is set, else by the path alone) and check that it is
 * active, sends JSON and is subscribed to the events svc/svc_webhooks.c acts on (pull request
 * closed/merged, reviews, review and conversation comments, issues), and that droverd has the
 * secret to verify it. Pure (the caller lists the hooks and reads the environment); any thread.
 */
#ifndef DROVER_SVC_DIAGHOOK_H
#define DROVER_SVC_DIAGHOOK_H

#include <jansson.h>
#include <stdbool.h>

#include "core/err.h"
#include "forge/forge_backend.h"

struct svc_diaghook_in {
    enum forge_kind kind;   /* gitea, gitlab or github */
    const char *project;    /* the project's name: the last segment of the URL */
    const char *repo_path;  /* "owner/repo", for messages */
    const char *public_url; /* DROVER_PUBLIC_URL, or NULL: match the URL's path only */
    bool secret_set;        /* DROVER_WEBHOOK_SECRET_<PROJECT> or DROVER_WEBHOOK_SECRET is set */
};

/*
 * The check for `hooks` (forge_backend_hooks' list): {"name": "webhook:<project>", "status":
 * "ok" | "warn", "detail", "fix"?} (owned). ok: a matching hook is active, sends JSON, has every
 * event and droverd has its secret. Otherwise warn, for the best matching hook (inactive,
 * missing events, form payloads, another host than DROVER_PUBLIC_URL, no secret) or for none:
 * the fix then names the URL to add, the content type, the secret's variable and the events.
 */
json_t *svc_diaghook_check(const struct svc_diaghook_in *in, const json_t *hooks);

/*
 * The check when the hooks could not be listed (`e` from forge_backend_hooks): a warn whose
 * fix, for a token that may not read webhooks (ERR_FORBIDDEN, ERR_NOT_FOUND,
 * ERR_UNAUTHORIZED), names the permission that forge wants. Owned.
 */
json_t *svc_diaghook_unlisted(const struct svc_diaghook_in *in, const struct err *e);

#endif
