/* The operator settings' rows. Main thread, at start-up. */
#include "core/opscfg.h"

#include <stddef.h>
#include <string.h>

static int opscfg_set_access(void *target, const struct opt *o, const char *name, const char *v,
                             struct err *err)
{
    struct opscfg *c = target;

    (void)o;
    if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
        return err_set(err, ERR_INVALID, "%s must be on or off (got '%s')", name, v);
    c->access_log = strcmp(v, "on") == 0;
    return 0;
}

static int opscfg_set_format(void *target, const struct opt *o, const char *name, const char *v,
                             struct err *err)
{
    struct opscfg *c = target;

    (void)o;
    if (strcmp(v, "logfmt") != 0 && strcmp(v, "json") != 0)
        return err_set(err, ERR_INVALID, "%s must be logfmt or json (got '%s')", name, v);
    c->access_log_format = strcmp(v, "json") == 0 ? OPSCFG_JSON : OPSCFG_LOGFMT;
    return 0;
}

static const struct opt opscfg_opts[] = {
    OPT_STR_ROW("default-project", "DROVER_DEFAULT_PROJECT", "", struct opscfg, default_project,
                "project (id or name) of a POST /api/tasks that names neither a project nor a "
                "repository, as the seed's {\"task\": \"...\"} does; empty: such a submission is "
                "refused"),
    OPT_CUSTOM_ROW("access-log", "DROVER_ACCESS_LOG", "on", opscfg_set_access,
                   "on|off: one line per HTTP request (method, path, status, duration, bytes, "
                   "token name or agent id; never a secret) on stderr"),
    OPT_CUSTOM_ROW("access-log-format", "DROVER_ACCESS_LOG_FORMAT", "logfmt", opscfg_set_format,
                   "logfmt|json"),
    OPT_INT_ROW(
        "retention-days", "DROVER_RETENTION_DAYS", "30", struct opscfg, retention_days, 1, 3650,
        "days the activity of finished tasks, scale decisions and delivered notifications are "
        "kept (the activity of open tasks is kept however old)"),
    OPT_INT_ROW("retention-interval", "DROVER_RETENTION_INTERVAL", "3600", struct opscfg,
                retention_interval, 10, 86400 * 7, "seconds between retention runs"),
    OPT_INT_ROW("retention-batch", "DROVER_RETENTION_BATCH", "1000", struct opscfg, retention_batch,
                10, 100000, "rows deleted per statement (each its own short transaction)"),
    OPT_INT_ROW("history-days", "DROVER_HISTORY_DAYS", "7", struct opscfg, history_days, 1, 90,
                "days of the dashboard's history (per-minute samples, heartbeat gaps) kept"),
};

struct opt_group opscfg_opt_group(struct opscfg *c)
{
    return (struct opt_group){"operator settings", opscfg_opts,
                              sizeof(opscfg_opts) / sizeof(opscfg_opts[0]), c};
}

void opscfg_default(struct opscfg *c)
{
    struct opt_group g = opscfg_opt_group(c);

    memset(c, 0, sizeof(*c));
    (void)opt_defaults(&g, 1, NULL); /* the table's own defaults: valid by construction */
}
