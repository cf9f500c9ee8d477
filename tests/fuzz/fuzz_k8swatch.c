/*
 * libFuzzer target: the Kubernetes watch-stream splitter and event reader (k8s_watch_data in
 * server/pool/k8s_watch.c, with k8s_pods_fill and k8s_pods_observe behind it). The first byte
 * chooses how the input is sliced into slices of the stream, as curl delivers a chunked stream
 * in arbitrary pieces; the rest is the stream.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Compiled in (not linked from drovercore) so coverage instrumentation sees them. */
#include "core/buf.h"
#include "core/log.h"
#include "pool/k8s_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct k8s_impl k;
    size_t off = 1, slice;

    log_threshold = LOG_ERROR; /* bad events are logged as warnings: keep the run quiet */
    if (size < 1)
        return 0;
    memset(&k, 0, sizeof(k));
    buf_init(&k.line, 1u << 16); /* small cap so the over-long-line path is reached */
    k.watch_status = 200;        /* a 200 stream: every slice is events */
    slice = (size_t)(data[0] % 64) + 1;
    while (off < size) {
        size_t n = size - off < slice ? size - off : slice;

        if (k8s_watch_data(&k, 200, (const char *)data + off, n) < 0)
            break; /* the real caller drops the stream */
        off += n;
        slice = (slice * 7 + 3) % 97 + 1;
    }
    /* Every observed pod is a real cache entry with a NUL-terminated name. */
    for (size_t i = 0; i < k.npods; i++)
        if (strnlen(k.pods[i].name, sizeof(k.pods[i].name)) == sizeof(k.pods[i].name))
            __builtin_trap();
    buf_clear(&k.line);
    free(k.pods);
    free(k.events);
    return 0;
}
