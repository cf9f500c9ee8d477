/*
 * The operator settings of droverd serve: the default project of submissions that name none,
 * the access log, and retention. Their rows of the one settings table (core/opt.h), parsed with
 * the server's own in one pass; read-only once the server runs, so any thread may read them.
 */
#ifndef DROVER_CORE_OPSCFG_H
#define DROVER_CORE_OPSCFG_H

#include <stdbool.h>

#include "core/opt.h"

enum opscfg_log_format { OPSCFG_LOGFMT, OPSCFG_JSON };

struct opscfg {
    char default_project[128];                /* --default-project: id or name; "" = none */
    bool access_log;                          /* --access-log on|off */
    enum opscfg_log_format access_log_format; /* --access-log-format logfmt|json */
    int retention_days;     /* --retention-days: activity of finished tasks, scale_events */
    int retention_interval; /* --retention-interval: seconds between prune runs */
    int retention_batch;    /* --retention-batch: rows per delete statement */
    int history_days;       /* --history-days: the dashboard's history */
};

/* The rows over `c`, titled for --help. */
struct opt_group opscfg_opt_group(struct opscfg *c);

/* The table's defaults. */
void opscfg_default(struct opscfg *c);

#endif
