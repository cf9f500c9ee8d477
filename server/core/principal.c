/* Scope names and the scope -> capability table. Any thread. */
#include "core/principal.h"

#include <string.h>

/*
 * One row per scope: its name, what it grants, and what a route guarded by it needs. A route
 * guarded by OPERATOR needs only reading, so a developer (who reads too) passes it; one guarded
 * by DEVELOPER needs acting on tasks, which an operator (read-only) lacks and an admin has.
 */
static const struct {
    const char *name;
    unsigned grants, route_needs;
} principal_scopes[PRINCIPAL_NSCOPES] = {
    [PRINCIPAL_NONE] = {"none", 0, 0},
    [PRINCIPAL_AGENT] = {"agent", PRINCIPAL_CAP_MCP, PRINCIPAL_CAP_MCP},
    [PRINCIPAL_DEVELOPER] = {"developer", PRINCIPAL_CAP_READ | PRINCIPAL_CAP_TASKS,
                             PRINCIPAL_CAP_TASKS},
    [PRINCIPAL_OPERATOR] = {"operator", PRINCIPAL_CAP_READ, PRINCIPAL_CAP_READ},
    [PRINCIPAL_ADMIN] = {"admin", PRINCIPAL_CAP_READ | PRINCIPAL_CAP_TASKS | PRINCIPAL_CAP_MANAGE,
                         PRINCIPAL_CAP_MANAGE},
};

int principal_scope_parse(const char *s, enum principal_scope *out, struct err *err)
{
    for (int i = PRINCIPAL_AGENT; i < PRINCIPAL_NSCOPES; i++) {
        if (s && strcmp(s, principal_scopes[i].name) == 0) {
            *out = (enum principal_scope)i;
            return 0;
        }
    }
    return err_set(err, ERR_INVALID, "scope must be agent, developer, operator or admin");
}

const char *principal_scope_name(enum principal_scope s)
{
    return (unsigned)s < PRINCIPAL_NSCOPES ? principal_scopes[s].name : "none";
}

unsigned principal_scope_caps(enum principal_scope s)
{
    return (unsigned)s < PRINCIPAL_NSCOPES ? principal_scopes[s].grants : 0;
}

unsigned principal_route_caps(enum principal_scope need)
{
    return (unsigned)need < PRINCIPAL_NSCOPES ? principal_scopes[need].route_needs : 0;
}

bool principal_allows(enum principal_scope who, enum principal_scope need)
{
    unsigned want = principal_route_caps(need);

    return (principal_scope_caps(who) & want) == want;
}
