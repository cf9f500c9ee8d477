/*
 * Job records. Created on the service thread, filled on a worker, freed on the service thread.
 */
#include "net/job.h"
#include "core/err.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

struct job *job_new(enum job_kind kind, uint64_t conn_id)
{
    struct job *j = mem_calloc(1, sizeof(*j));

    j->kind = kind;
    j->conn_id = conn_id;
    return j;
}

void job_free(struct job *j)
{
    if (!j)
        return;
    free(j->body);
    free(j->token);
    free(j->session);
    free(j->version);
    free(j->mcp_method);
    free(j->mcp_name);
    for (size_t i = 0; i < MCP_HEADERS_PARAMS_MAX; i++)
        free(j->mcp_params[i]);
    free(j->agent_hdr);
    free(j->method);
    free(j->path);
    free(j->query);
    free(j->idem_key);
    free(j->last_event_id);
    free(j->hook_hdrs);
    json_decref(j->jrpc_id);
    free(j->out);
    free(j->new_session);
    json_decref(j->cancel_id);
    free(j);
}

void job_reply_json(struct job *j, int status, json_t *body)
{
    free(j->out);
    j->out = NULL;
    j->out_len = 0;
    j->status = status;
    j->content_type = "application/json";
    if (body) {
        j->out = json_dumps(body, JSON_COMPACT);
        j->out_len = j->out ? strlen(j->out) : 0;
        json_decref(body);
    }
}

void job_reply_error(struct job *j, enum err_code code, const char *reason, const char *msg)
{
    job_reply_json(j, err_http_status(code),
                   json_pack("{s:{s:s,s:s}}", "error", "code",
                             reason ? reason : err_code_name(code), "message", msg));
}
