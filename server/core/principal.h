/*
 * Who is calling: a bearer token's scope and identity, as every layer sees it once the token
 * was verified (store/tokens.c issues and verifies tokens; svc/svc_auth.c caches the result;
 * mcp/ and api/ authorise with it). Pure data and names; any thread.
 */
#ifndef DROVER_CORE_PRINCIPAL_H
#define DROVER_CORE_PRINCIPAL_H

#include "core/err.h"

/* Ordered: operator < admin for the REST API; agent is separate (MCP tools only). */
enum principal_scope { PRINCIPAL_NONE = 0, PRINCIPAL_AGENT, PRINCIPAL_OPERATOR, PRINCIPAL_ADMIN };

/* Who a verified token belongs to. */
struct principal {
    enum principal_scope scope;
    long long token_id; /* 0 when auth is off */
    char agent_id[37];  /* agent tokens only, else "" */
    char name[201];     /* the token's name, recorded in activity and audit rows */
};

/* A token's length: "drv_" + 64 hex characters + NUL. */
#define PRINCIPAL_TOKEN_LEN 69

/* Parse "agent" | "operator" | "admin". Returns 0, or -1 with ERR_INVALID. */
int principal_scope_parse(const char *s, enum principal_scope *out, struct err *err);
/* "agent", "operator", "admin", or "none". */
const char *principal_scope_name(enum principal_scope s);

#endif
