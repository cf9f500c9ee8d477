/*
 * REST handlers for tasks: create (with fan-out and idempotency), list with cursor pages,
 * detail with history, cancel / answer / retry, and logs (paged, or followed as SSE).
 * Worker threads.
 */
#ifndef DROVER_API_TASKS_H
#define DROVER_API_TASKS_H

#include "api/api.h"

extern const struct api_route tasks_routes[];

/* The opaque list cursor for "ids below `id`", and back. Exposed for tests. */
void tasks_cursor_encode(long long id, char out[32]);
int tasks_cursor_decode(const char *s, long long *id);

#endif
