/*
 * libFuzzer target: kubeconfig parsing (server/pool/kubeconfig.c): the YAML-to-JSON reader and
 * kubeconfig_load's walk of current-context / clusters / users, base64 "-data" fields included.
 * The input is the file's contents, handed over through a memfd so the real loader runs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pool/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    struct kubeconfig kc;
    struct err err = {0};
    json_t *doc = NULL;

    if (fd < 0) {
        fd = memfd_create("kubeconfig", 0);
        if (fd < 0)
            __builtin_trap();
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    if (kubeconfig_yaml_parse((const char *)data, size, &doc, &err) == 0)
        json_decref(doc);
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        __builtin_trap();
    if (kubeconfig_load(path, &kc, &err) == 0) {
        if (!kc.server)
            __builtin_trap(); /* success always names a server */
        kubeconfig_free(&kc);
    }
    return 0;
}
