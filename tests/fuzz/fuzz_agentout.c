/*
 * libFuzzer target: a coding command's output as drover-agent reads it: the line splitter
 * (proc_feed / proc_emit in server/core/proc.c, with the output cut into arbitrary read()
 * slices, CRLF, over-long lines) feeding every line to the stream-json usage reader
 * (agent/runner/runner_usage.c), as runner_task's line callback does. The first byte chooses
 * the slicing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/proc.h"
#include "runner_usage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void agentout_line(void *ud, const char *line)
{
    if (strlen(line) > PROC_LINE_MAX)
        __builtin_trap();
    (void)runner_usage_line(ud, line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct runner_usage u = {0};
    struct proc_opts o = {0};
    struct proc_result res;
    char *line = malloc(PROC_LINE_MAX + 1);
    size_t llen = 0, off = 1, slice;

    if (size < 1) {
        free(line);
        return 0;
    }
    memset(&res, 0, sizeof(res));
    o.on_line = agentout_line;
    o.ud = &u;
    slice = (size_t)data[0] * 17 % 4096 + 1;
    while (off < size) {
        size_t n = size - off < slice ? size - off : slice;

        proc_feed(&o, &res, line, &llen, (const char *)data + off, n);
        off += n;
        slice = slice * 31 % 4093 + 1;
    }
    proc_feed(&o, &res, line, &llen, NULL, 0); /* the last line without '\n', as proc_run does */
    if (u.in_tokens < 0 || u.out_tokens < 0 || u.cache_tokens < 0)
        __builtin_trap();
    if (strnlen(res.last_line, sizeof(res.last_line)) == sizeof(res.last_line))
        __builtin_trap();
    free(line);
    return 0;
}
