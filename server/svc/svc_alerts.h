/*
 * Alertmanager as a trigger: one task per firing alert group, deduplicated by the group key
 * while its task is open, the prompt rendered from the project's template; a resolved group is
 * noted on its task. Worker threads.
 */
#ifndef DROVER_SVC_ALERTS_H
#define DROVER_SVC_ALERTS_H

#include <jansson.h>
#include <stdbool.h>

#include "svc/svc.h"

/* Used when a project has no settings.alert_template. */
#define SVC_ALERTS_DEFAULT_TEMPLATE                                                                \
    "Alertmanager reports {{alertname}} ({{status}}) for this repository's service.\n\n"           \
    "Alerts:\n{{alerts}}\n\nInvestigate the cause, fix it on your branch and explain the fix in "  \
    "the pull request. Alertmanager: {{externalURL}} (group {{groupKey}})."

/*
 * Render `tmpl` for `payload`: {{status}}, {{groupKey}}, {{receiver}}, {{externalURL}},
 * {{alertname}}, {{alerts}} (one line per alert), {{commonLabels.NAME}},
 * {{commonAnnotations.NAME}}, {{groupLabels.NAME}}; unknown placeholders become "".
 * Returns an owned string. Pure; any thread.
 */
char *svc_alerts_render(const char *tmpl, const json_t *payload);

/* The alert's name: commonLabels, groupLabels or the first alert's alertname; "an alert". */
const char *svc_alerts_name(const json_t *payload);

/*
 * A validated Alertmanager (version 4) payload for project `project_ref`: firing -> open or
 * find the group's task (*created tells which); resolved -> note it (*task may be NULL).
 * *resolved says which happened.
 */
int svc_alerts_intake(struct svc_ctx *c, const char *project_ref, const json_t *payload,
                      json_t **task, bool *created, bool *resolved, struct err *err);

#endif
