/* Member names of a JSON object against an accepted list. Pure; any thread. */
#include "core/jsonkeys.h"

#include <stdbool.h>
#include <string.h>

const char *jsonkeys_unknown(const json_t *o, const char *const *names)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)o, k, v)
    {
        bool known = false;

        for (size_t i = 0; names[i] && !known; i++)
            known = strcmp(k, names[i]) == 0;
        if (!known)
            return k;
    }
    return NULL;
}
