/*
 * libFuzzer target: the Kubernetes watch-stream splitter and event reader (k8s_watch_data,
 * k8s_watch_line, k8s_pod_fill, k8s_observe in server/pool/k8s.c). The first byte chooses how
 * the input is sliced into write callbacks, as curl delivers a chunked stream in arbitrary
 * pieces; the rest is the stream.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Compiled in so coverage instrumentation sees it and the static functions are reachable. */
#include "../../server/pool/k8s.c"

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
    k.watch_status = 200;        /* skips curl_easy_getinfo: no handle here */
    slice = (size_t)(data[0] % 64) + 1;
    while (off < size) {
        size_t n = size - off < slice ? size - off : slice;

        if (k8s_watch_data((char *)data + off, 1, n, &k) != n)
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
