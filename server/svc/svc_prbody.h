/*
 * What a pull request Drover opens says and how it is opened: a body a reviewer can read (the
 * agent's own summary when it sent one; never the internal prompt, which goes into a collapsed
 * section; the task's link and transcript when DROVER_PUBLIC_URL is set) and the team's options
 * from the project's settings: pr_draft, pr_labels (a string or a list), pr_remove_source_branch,
 * pr_squash, GitLab's pr_reviewer_ids / pr_assignee_ids (the forge's user ids), and
 * pr_reviewers / pr_assignees (forge usernames; GitLab's backend looks up their ids) with the
 * task's submitter added when settings.forge_logins maps its Drover name to a forge username.
 * Borrowed
 * from `settings`: it must outlive the request. Pure; any thread.
 */
#ifndef DROVER_SVC_PRBODY_H
#define DROVER_SVC_PRBODY_H

#include <jansson.h>

#include "forge/forge_backend.h"

/* The body for `task` (its JSON) given what the agent sent (`agent_body`, may be NULL). Owned. */
char *svc_prbody_compose(const json_t *task, const char *agent_body, const char *public_url);

/* Fill req's options from the project's `settings`; *labels is owned (may be NULL). */
void svc_prbody_options(const json_t *settings, struct forge_pr_req *req, char **labels);

/*
 * The people, as usernames: req->reviewers = pr_reviewers and req->assignees =
 * pr_assignees (a list of forge usernames, or one), each plus the login that forge_logins
 * ({"<Drover submitter>": "<forge username>"}) gives `submitter` (may be NULL) and plus
 * `forge_login` (may be NULL: a login on the project's forge itself, e.g. the author of the
 * forge issue the task came from), each name once; NULL when empty. *own holds both arrays
 * (owned): it must outlive the request.
 */
void svc_prbody_people(const json_t *settings, const char *submitter, const char *forge_login,
                       struct forge_pr_req *req, json_t **own);

#endif
