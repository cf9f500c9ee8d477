/*
 * GitHub App installation tokens: short-lived forge credentials (an hour) instead of a
 * long-lived personal token. droverd signs a JWT (RS256, with the App's private key, libcrypto)
 * and exchanges it at POST {api}/app/installations/{installation_id}/access_tokens, as GitHub
 * documents; the token can be narrowed to one repository. Blocking; worker threads only.
 */
#ifndef DROVER_FORGE_GHAPP_H
#define DROVER_FORGE_GHAPP_H

#include <stdbool.h>

#include "core/err.h"

struct forge_ghapp {
    const char *app_id;          /* the App's id (or client id): the JWT's "iss" */
    const char *key_file;        /* its private key, PEM */
    const char *installation_id; /* the installation on the repository's owner */
    const char *repository;      /* narrow the token to this repository name, or NULL */
    const char *api_url;         /* https://api.github.com (NULL = that), or GHES' /api/v3 */
    const char *allow;           /* as struct forge.allow: where the JWT may be sent */
    bool contents_only;          /* ask for {"contents": "write"} only (an agent's git push) */
    long timeout_s;              /* 0 = 60 */
};

/* The JWT for `app` at time `now` (owned), or NULL with err set (the key cannot be read). */
char *forge_ghapp_jwt(const struct forge_ghapp *app, long long now, struct err *err);

/*
 * A fresh installation token: *token (owned, secret) and expires_at ("2026-12-02T15:04:05Z",
 * as GitHub answered). 0, or -1 with err (ERR_UNAUTHORIZED when GitHub refused the JWT,
 * ERR_NOT_FOUND for an unknown installation, ERR_UNAVAILABLE when it did not answer).
 */
int forge_ghapp_token(const struct forge_ghapp *app, char **token, char expires_at[32],
                      struct err *err);

#endif
