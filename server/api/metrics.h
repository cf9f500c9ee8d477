/*
 * GET /metrics: Prometheus text format (version 0.0.4), every name prefixed drover_. Queue
 * and agent gauges come from the database at each scrape (svc/svc_metrics.h); process counters
 * (tool calls, claim latency, scale decisions, DB pool) from core/counters. Worker threads.
 */
#ifndef DROVER_API_METRICS_H
#define DROVER_API_METRICS_H

#include "api/api.h"

extern const struct api_route metrics_routes[];

#endif
