/*
 * Process-wide metric counters that other subsystems increment and /metrics renders:
 * MCP tool calls (count, errors, latency histogram per tool), claim latency, scale decisions,
 * notification deliveries (the outbox's attempts by outcome) and the database pool gauges.
 * Thread-safe (one mutex; every update is a few adds).
 */
#ifndef DROVER_CORE_COUNTERS_H
#define DROVER_CORE_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define COUNTERS_MAX_TOOLS 32 /* distinct tool names tracked; more are counted as "other" */

/* One MCP tools/call finished after `seconds`; ok = no error result. */
void counters_tool_call(const char *tool, double seconds, bool ok);

/* One get_next_task claim finished after `seconds` (found = a task was handed out). */
void counters_claim(double seconds, bool found);

/* The autoscaler decided: direction "up", "down" or "hold". */
void counters_scale_decision(const char *direction);

/* The outbox settled one delivery attempt: result "delivered", "retry" (failed, to be tried
 * again) or "dead" (failed for good). Anything else counts as "retry". */
void counters_outbox_delivery(const char *result);

/* The database connection pool: size and connections currently in use. */
void counters_db_pool(int size, int in_use);

/* Render every counter in Prometheus text format (with # HELP and # TYPE). 0 or -1 (full). */
int counters_render(struct buf *out);

/* Forget everything (tests). */
void counters_reset(void);

#endif
