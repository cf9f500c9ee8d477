/* The operator settings' rows. Main thread, at start-up. */
#include "core/opscfg.h"

#include <stddef.h>
#include <string.h>

static const struct opt opscfg_opts[] = {
    OPT_STR_ROW("default-project", "DROVER_DEFAULT_PROJECT", "", struct opscfg, default_project,
                "project (id or name) of a POST /api/tasks that names neither a project nor a "
                "repository, as the seed's {\"task\": \"...\"} does; empty: such a submission is "
                "refused"),
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
