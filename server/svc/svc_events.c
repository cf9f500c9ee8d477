/* Event feeds. Worker threads. */
#include "svc/svc_events.h"
#include "store/events.h"

_Static_assert(SVC_EVENTS_CURSOR_MAX == EVENTS_CURSOR_MAX, "the cursor is the store's");

int svc_events_poll(struct svc_ctx *c, const char *cursor, int limit, json_t **events,
                    char next[SVC_EVENTS_CURSOR_MAX], struct err *err)
{
    return events_poll(c->db, cursor, limit, events, next, err);
}

int svc_events_activity(struct svc_ctx *c, long long task_id, long long *after, json_t **events,
                        struct err *err)
{
    return events_activity(c->db, task_id, after, events, err);
}
