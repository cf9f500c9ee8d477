/*
 * The feeds operators follow: the event feed (task changes, log lines, heartbeats, scale
 * decisions, store/events.c) and the raw activity stream. Worker threads.
 */
#ifndef DROVER_SVC_EVENTS_H
#define DROVER_SVC_EVENTS_H

#include <jansson.h>

#include "svc/svc.h"

#define SVC_EVENTS_CURSOR_MAX 64

/*
 * Up to `limit` events after `cursor` ("" = now: nothing old, only *next to poll from; "0.0" =
 * from the beginning). ERR_INVALID for a cursor this server did not issue.
 */
int svc_events_poll(struct svc_ctx *c, const char *cursor, int limit, json_t **events,
                    char next[SVC_EVENTS_CURSOR_MAX], struct err *err);

/* Activity rows after *after (of task `task_id`, or all when 0); *after advances. */
int svc_events_activity(struct svc_ctx *c, long long task_id, long long *after, json_t **events,
                        struct err *err);

#endif
