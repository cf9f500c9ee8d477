/*
 * GET /metrics: Prometheus text format (version 0.0.4), every name prefixed drover_. Queue
 * and agent gauges come from one database snapshot per scrape; process counters (tool calls,
 * claim latency, scale decisions, DB pool) from core/counters. Worker threads.
 */
#ifndef DROVER_API_METRICS_H
#define DROVER_API_METRICS_H

#include <stddef.h>

#include "api/api.h"
#include "core/buf.h"

extern const struct api_route metrics_routes[];

/* Append the database-derived metrics to `out`. 0 or -1 with err. */
int metrics_render_db(struct db *db, struct buf *out, struct err *err);

#endif
