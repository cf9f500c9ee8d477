/*
 * libFuzzer target: the process backend's log reader (its `logs` operation, reached through
 * pool/backend.h as droverd's REST API reaches it):
 * the agent-name check (no path escapes) and the last-N-lines tail over arbitrary file bytes.
 * Input: two bytes of tail_lines, a name up to the first NUL, then the log file's contents.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "pool/backend.h"

#include <stdbool.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[] = "/tmp/drover-fuzz-proclog-XXXXXX";
    static struct backend *b;
    struct buf out;
    struct err err = {0};
    const uint8_t *nul;
    char name[256], *path;
    int tail;
    FILE *f;

    if (!b) {
        struct backend_cfg bc = {.kind = "process", .agent_command = "true", .log_dir = dir};

        if (!mkdtemp(dir) || backend_open(&bc, &b, &err) < 0)
            __builtin_trap();
    }
    if (size < 2)
        return 0;
    tail = (int)(((unsigned)data[0] << 8 | data[1]) % 300) - 20;
    data += 2;
    size -= 2;
    nul = memchr(data, 0, size < sizeof(name) ? size : sizeof(name) - 1);
    if (nul) {
        memcpy(name, data, (size_t)(nul - data));
        name[nul - data] = '\0';
        size -= (size_t)(nul - data) + 1;
        data = nul + 1;
    } else {
        snprintf(name, sizeof(name), "agent-1");
    }
    /* The log the name should reach; names that escape the directory must not. */
    path = mem_printf("%s/agent-1.log", dir);
    f = fopen(path, "w");
    if (!f)
        __builtin_trap();
    fwrite(data, 1, size, f);
    fclose(f);
    free(path);
    buf_init(&out, 1u << 20);
    if (backend_logs(b, name, tail, false, &out, &err) == 0 && strcmp(name, "agent-1") == 0) {
        /* The tail is a suffix of the file. */
        if (out.len > size || (out.len && memcmp(out.data, data + size - out.len, out.len) != 0))
            __builtin_trap();
    }
    buf_clear(&out);
    return 0;
}
