/*
 * libFuzzer target: the JSON-RPC parser and the database-free part of MCP dispatch
 * (initialize without sessions, ping, tools/list, errors, batches, notifications).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mcp/jrpc.h"
#include "mcp/mcp.h"

/* The code under test is compiled into this file so libFuzzer's coverage instrumentation sees
 * it (the libraries are built without it); the linker then takes these definitions and never
 * pulls the archive's copies. */
#include "mcp/jrpc.h"
#include "mcp/mcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *msg = NULL, *reply = NULL;
    char emsg[256];
    int code;
    const char *why;

    if (jrpc_parse((const char *)data, size, &msg, &code, emsg, sizeof(emsg)) < 0)
        return 0;
    if (json_is_object(msg))
        (void)jrpc_classify(msg, &why);
    /* tools/call reaches the database; everything else is pure. */
    if (!json_is_object(msg) || !json_object_get(msg, "method") ||
        !json_is_string(json_object_get(msg, "method")) ||
        !strstr(json_string_value(json_object_get(msg, "method")), "tools/call")) {
        struct mcp_ctx c = {0};
        if (!json_is_array(msg)) {
            mcp_handle(&c, msg, "2025-03-26", &reply);
            json_decref(reply);
        }
        mcp_ctx_clear(&c);
    }
    json_decref(msg);
    return 0;
}
