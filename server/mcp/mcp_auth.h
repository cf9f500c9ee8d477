/*
 * Authorization metadata (2026-07-28 basic/authorization; RFC 9728 OAuth 2.0 Protected Resource
 * Metadata): the document droverd serves at /.well-known/oauth-protected-resource (for the REST
 * API and the whole origin) and /.well-known/oauth-protected-resource/mcp (for the MCP
 * endpoint), and the WWW-Authenticate challenge of a 401 that points to it, so OAuth-aware
 * clients find out how to get a token. Static bearer tokens (droverd token create) work as
 * before. Pure; any thread (the service thread answers these without a worker).
 */
#ifndef DROVER_MCP_AUTH_H
#define DROVER_MCP_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/cfg.h"

#define MCP_AUTH_PRM_PATH "/.well-known/oauth-protected-resource"
#define MCP_AUTH_BASE_MAX 300

/*
 * The origin clients reach droverd at, into out[outsz]: --public-url, else "http://" + the
 * request's Host. -1 when neither is usable (no Host, or one with characters a host name may
 * not have: it would go into a quoted-string and a JSON document).
 */
int mcp_auth_base(const struct cfg *cfg, const char *host, char *out, size_t outsz);

/* The metadata document for `base`: the MCP endpoint's when `mcp`, else the origin's. */
json_t *mcp_auth_metadata(const struct cfg *cfg, const char *base, bool mcp);

/* The Bearer challenge of a 401 with resource_metadata pointing at the document for `base`
 * (`mcp`: the MCP endpoint's). */
void mcp_auth_challenge(const char *base, bool mcp, char *out, size_t outsz);

#endif
