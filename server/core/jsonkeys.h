/*
 * The one check of a JSON object's member names against the names a caller accepts (a REST
 * body, a project's settings, a tool's arguments), so a typo is refused instead of ignored.
 * Pure; any thread.
 */
#ifndef DROVER_CORE_JSONKEYS_H
#define DROVER_CORE_JSONKEYS_H

#include <jansson.h>

/* The first member of the object `o` whose name is not among `names` (NULL-terminated), or
 * NULL when there is none (also when `o` is not an object). Borrowed from `o`. */
const char *jsonkeys_unknown(const json_t *o, const char *const *names);

#endif
