/*
 * libFuzzer target: the agent's SSE reader (mcpc_sse_find in agent/lib/mcpc.c), which picks
 * the JSON-RPC response out of a Streamable-HTTP event stream: data lines joined, events split
 * on blank lines, CRLF or LF, a last event without a trailing blank line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mcpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = malloc(size + 1);
    json_t *found;

    memcpy(body, data, size);
    body[size] = '\0';
    found = mcpc_sse_find(body, 1);
    if (found && json_integer_value(json_object_get(found, "id")) != 1)
        __builtin_trap();
    json_decref(found);
    free(body);
    return 0;
}
