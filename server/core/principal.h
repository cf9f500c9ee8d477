/*
 * Who is calling: a bearer token's scope and identity, as every layer sees it once the token
 * was verified (store/tokens.c issues and verifies tokens; svc/svc_auth.c caches the result;
 * mcp/ and api/ authorise with it). Pure data and names; any thread.
 *
 * What a scope may do is one table (principal.c): each scope grants a set of capabilities, and
 * a REST route names the scope whose capability it needs (its `min_scope`: OPERATOR = read,
 * DEVELOPER = act on tasks, ADMIN = manage the pool, tokens and projects). A new scope is one
 * row of that table.
 */
#ifndef DROVER_CORE_PRINCIPAL_H
#define DROVER_CORE_PRINCIPAL_H

#include <stdbool.h>

#include "core/err.h"

/*
 * In the order people list them. agent acts only through MCP; developer submits, answers and
 * reviews tasks and reads the dashboard; operator reads everything; admin does everything.
 */
enum principal_scope {
    PRINCIPAL_NONE = 0,
    PRINCIPAL_AGENT,
    PRINCIPAL_DEVELOPER,
    PRINCIPAL_OPERATOR,
    PRINCIPAL_ADMIN,
    PRINCIPAL_NSCOPES
};

/* Capabilities: what a route needs and a scope grants (bits). */
enum principal_cap {
    PRINCIPAL_CAP_MCP = 1u << 0,    /* MCP tools as a leased agent */
    PRINCIPAL_CAP_READ = 1u << 1,   /* read tasks, agents, projects, pool, events, dashboard */
    PRINCIPAL_CAP_TASKS = 1u << 2,  /* submit, answer, accept, rework, cancel, retry tasks */
    PRINCIPAL_CAP_MANAGE = 1u << 3, /* pool, tokens, projects, schedules */
};

/* Who a verified token belongs to. */
struct principal {
    enum principal_scope scope;
    long long token_id; /* 0 when auth is off */
    char agent_id[37];  /* agent tokens only, else "" */
    char name[201];     /* the token's name, recorded in activity and audit rows */
};

/* A token's length: "drv_" + 64 hex characters + NUL. */
#define PRINCIPAL_TOKEN_LEN 69

/* Parse "agent" | "developer" | "operator" | "admin". Returns 0, or -1 with ERR_INVALID. */
int principal_scope_parse(const char *s, enum principal_scope *out, struct err *err);
/* "agent", "developer", "operator", "admin", or "none". */
const char *principal_scope_name(enum principal_scope s);
/* The capabilities scope `s` grants (0 for none or an unknown value). */
unsigned principal_scope_caps(enum principal_scope s);
/* The capabilities a route guarded by `need` requires (PRINCIPAL_NONE: 0, public). */
unsigned principal_route_caps(enum principal_scope need);
/* May a caller of scope `who` use a route guarded by `need`? */
bool principal_allows(enum principal_scope who, enum principal_scope need);

#endif
