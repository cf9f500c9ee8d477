/*
 * Task handles for the MCP tasks extension: the taskId a submitter's client polls with. A
 * handle names one Drover task and carries an HMAC-SHA256 (the server key `task_handles`,
 * store/mcpkeys.h) over that id, so handles cannot be guessed, enumerated or forged, and one
 * that was tampered with resolves to nothing. Worker threads.
 */
#ifndef DROVER_SVC_HANDLES_H
#define DROVER_SVC_HANDLES_H

#include <stdint.h>

#include "core/err.h"
#include "svc/svc.h"

/* "drv-task-" + id + "." + 32 hex characters + NUL. */
#define SVC_HANDLE_LEN 72

/* The key, loaded once for signing many handles (list_tasks); wipe it with svc_handles_wipe. */
struct svc_handles_key {
    char secret[256];
};
int svc_handles_load(struct svc_ctx *c, struct svc_handles_key *k, struct err *err);
void svc_handles_sign(const struct svc_handles_key *k, int64_t id, char out[SVC_HANDLE_LEN]);
void svc_handles_wipe(struct svc_handles_key *k);

/* The handle of task `id`. */
int svc_handles_make(struct svc_ctx *c, int64_t id, char out[SVC_HANDLE_LEN], struct err *err);

/* The task a handle names; ERR_NOT_FOUND for anything that is not a handle droverd made. */
int svc_handles_parse(struct svc_ctx *c, const char *handle, int64_t *id, struct err *err);

#endif
