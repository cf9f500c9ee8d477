/*
 * The dashboard's history (store/history.h): sampled once a minute by whichever replica's sweep
 * claims the minute, read by GET /api/history, pruned after --history-days with retention.
 * Worker threads.
 */
#ifndef DROVER_SVC_HISTORY_H
#define DROVER_SVC_HISTORY_H

#include <jansson.h>

#include "svc/svc.h"

#define SVC_HISTORY_POINTS 360 /* samples per answer at most (buckets grow with the window) */

/* From the sweep: this minute's sample, when no replica wrote it yet. */
void svc_history_tick(struct svc_ctx *c);

/* The last `hours` (1 .. --history-days x 24): see history_get. *out owned. */
int svc_history_get(struct svc_ctx *c, int hours, json_t **out, struct err *err);

/* The longest window kept, in hours. */
int svc_history_max_hours(const struct svc_ctx *c);

#endif
