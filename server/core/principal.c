/* Scope names. Any thread. */
#include "core/principal.h"

#include <string.h>

static const char *const principal_names[] = {"none", "agent", "operator", "admin"};

int principal_scope_parse(const char *s, enum principal_scope *out, struct err *err)
{
    for (int i = PRINCIPAL_AGENT; i <= PRINCIPAL_ADMIN; i++) {
        if (s && strcmp(s, principal_names[i]) == 0) {
            *out = (enum principal_scope)i;
            return 0;
        }
    }
    return err_set(err, ERR_INVALID, "scope must be agent, operator or admin");
}

const char *principal_scope_name(enum principal_scope s)
{
    return (unsigned)s <= PRINCIPAL_ADMIN ? principal_names[s] : "none";
}
