/*
 * Triggers: POST /api/hooks/alertmanager takes Alertmanager's webhook payload (version 4) and
 * opens one task per firing alert group, deduplicated by groupKey while its task is open,
 * with the prompt rendered from the project's template (settings.alert_template).
 * Worker threads.
 */
#ifndef DROVER_API_HOOKS_H
#define DROVER_API_HOOKS_H

#include <jansson.h>
#include <stddef.h>

#include "api/api.h"

extern const struct api_route hooks_routes[];

/* Used when a project has no settings.alert_template. */
#define HOOKS_DEFAULT_TEMPLATE                                                                     \
    "Alertmanager reports {{alertname}} ({{status}}) for this repository's service.\n\n"           \
    "Alerts:\n{{alerts}}\n\nInvestigate the cause, fix it on your branch and explain the fix in "  \
    "the pull request. Alertmanager: {{externalURL}} (group {{groupKey}})."

/*
 * Render `tmpl` for `payload`: {{status}}, {{groupKey}}, {{receiver}}, {{externalURL}},
 * {{alertname}}, {{alerts}} (one line per alert), {{commonLabels.NAME}},
 * {{commonAnnotations.NAME}}, {{groupLabels.NAME}}; unknown placeholders become "".
 * Returns an owned string.
 */
char *hooks_render(const char *tmpl, const json_t *payload);

#endif
