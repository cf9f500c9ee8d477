/*
 * RFC 9728 protected-resource metadata and the 401 challenge. Pure; any thread.
 */
#include "mcp/mcp_auth.h"

#include <stdio.h>
#include <string.h>

int mcp_auth_base(const struct cfg *cfg, const char *host, char *out, size_t outsz)
{
    if (cfg && cfg->public_url[0])
        return snprintf(out, outsz, "%s", cfg->public_url) < (int)outsz ? 0 : -1;
    if (!host || !*host || strlen(host) > 255)
        return -1;
    for (const char *p = host; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr(".-:[]", *p)))
            return -1;
    return snprintf(out, outsz, "http://%s", host) < (int)outsz ? 0 : -1;
}

json_t *mcp_auth_metadata(const struct cfg *cfg, const char *base, bool mcp)
{
    char resource[MCP_AUTH_BASE_MAX + 8];
    json_t *doc, *as = json_array();

    snprintf(resource, sizeof(resource), "%s%s", base, mcp ? "/mcp" : "");
    for (int i = 0; cfg && i < cfg->noauth_servers; i++)
        json_array_append_new(as, json_string(cfg->oauth_servers[i]));
    doc = json_pack("{s:s, s:[s], s:[s,s,s,s], s:s}", "resource", resource,
                    "bearer_methods_supported", "header", "scopes_supported", "agent", "developer",
                    "operator", "admin", "resource_name", "Drover");
    /* RFC 9728 makes the list optional; MCP wants one entry. Without a configured server there
     * is none to name truthfully: the document then says only how to present a token. */
    if (json_array_size(as))
        json_object_set_new(doc, "authorization_servers", as);
    else
        json_decref(as);
    return doc;
}

void mcp_auth_challenge(const char *base, bool mcp, char *out, size_t outsz)
{
    snprintf(out, outsz,
             "Bearer realm=\"drover\", error=\"invalid_token\", resource_metadata=\"%s%s%s\"", base,
             MCP_AUTH_PRM_PATH, mcp ? "/mcp" : "");
}
