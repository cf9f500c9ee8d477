/*
 * libFuzzer target: 2026-07-28's request metadata headers and the database-free part of the
 * modern era's dispatch. The input is split at the first two NUL bytes into a header value,
 * an Mcp-Param value and a JSON-RPC body: the header value goes through the decoder (OWS,
 * Base64 sentinels) and, as Mcp-Method / Mcp-Name / Mcp-Param-Project, through the check
 * against the body; the body through mcp_modern_handle unless it would reach the database
 * (tools/call and the tasks methods).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/jrpc.h"
#include "mcp/mcp_headers.h"
#include "mcp/mcp_modern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *hv, *pv, *body, out[MCP_HEADERS_VALUE_MAX], why[300];
    const char *nul1, *nul2;
    json_t *msg = NULL, *reply = NULL, *schema;
    int code, status;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    hv = buf;
    nul1 = memchr(buf, '\0', size);
    pv = nul1 && (size_t)(nul1 - buf) < size ? (char *)nul1 + 1 : buf + size;
    nul2 = memchr(pv, '\0', size - (size_t)(pv - buf));
    body = nul2 ? (char *)nul2 + 1 : buf + size;
    (void)mcp_headers_decode(hv, out, sizeof(out));
    (void)mcp_headers_decode(pv, out, 8); /* a tiny buffer too */
    schema = json_loads("{\"type\":\"object\",\"properties\":{\"project\":{\"type\":\"string\","
                        "\"x-mcp-header\":\"Project\"},\"n\":{\"type\":\"integer\","
                        "\"x-mcp-header\":\"N\"}}}",
                        0, NULL);
    if (jrpc_parse(body, strlen(body), &msg, &code, why, sizeof(why)) == 0 && json_is_object(msg) &&
        json_is_string(json_object_get(msg, "method"))) {
        struct mcp_headers h = {.version = "2026-07-28", .method = hv, .name = pv};
        const char *m = json_string_value(json_object_get(msg, "method"));

        h.params[h.nparams++] = (struct mcp_header_param){"Project", pv};
        h.params[h.nparams++] = (struct mcp_header_param){"n", hv};
        (void)mcp_headers_check(&h, msg, schema, why, sizeof(why));
        if (strcmp(m, "tools/call") != 0 && strncmp(m, "tasks/", 6) != 0) {
            struct mcp_ctx c = {0};
            mcp_modern_handle(&c, msg, &h, &reply, &status);
            json_decref(reply);
            reply = NULL;
            mcp_modern_handle(&c, msg, NULL, &reply, &status); /* /ws: no headers */
            json_decref(reply);
            mcp_ctx_clear(&c);
        }
    }
    json_decref(msg);
    json_decref(schema);
    free(buf);
    return 0;
}
