/*
 * libFuzzer target: the _meta envelope cache of 2026-07-28 bodies (server/mcp/mcp_meta.c) and
 * the scan it rests on (jrpc_meta_span). The property: mcp_meta_parse gives what jrpc_parse
 * gives — the same value, or the same error code and message — for the input as it comes, and
 * again once its envelope is kept (the second call) and with a kept envelope of the seed
 * corpus's shape in front of it. Aborts on any difference.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/jrpc.h"
#include "mcp/mcp_meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void mcpmeta_same(const char *b, size_t n)
{
    json_t *x = NULL, *y = NULL;
    int cx = -1, cy = -1;
    char mx[256], my[256];
    int rx = mcp_meta_parse(b, n, &x, &cx, mx, sizeof(mx));
    int ry = jrpc_parse(b, n, &y, &cy, my, sizeof(my));

    if (rx != ry || cx != cy || strcmp(mx, my) != 0 || (x && !json_equal(x, y)) || (!x && y))
        abort();
    json_decref(x);
    json_decref(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char typical[] =
        "{\"method\":\"tools/call\",\"params\":{\"name\":\"heartbeat\",\"arguments\":{},"
        "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
        "\"io.modelcontextprotocol/clientCapabilities\":{}}},\"jsonrpc\":\"2.0\",\"id\":1}";

    mcpmeta_same(typical, sizeof(typical) - 1);
    mcpmeta_same((const char *)data, size);
    mcpmeta_same((const char *)data, size);
    return 0;
}
