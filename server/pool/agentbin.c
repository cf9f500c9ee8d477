/* Finding the default drover-agent program (see agentbin.h). Any thread. */
#include "pool/agentbin.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AGENTBIN_NAME "drover-agent"

const char *agentbin_source_name(enum agentbin_source s)
{
    switch (s) {
    case AGENTBIN_BUILD_TREE:
        return "build-tree";
    case AGENTBIN_BESIDE:
        return "beside-droverd";
    case AGENTBIN_PATH:
        return "path";
    }
    return "unknown";
}

/* A regular file this process may execute (a directory named drover-agent is not one). */
static bool agentbin_runnable(const char *p)
{
    struct stat st;

    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

/* <dir, dirlen>/<rest> into out when it fits and is runnable. */
static bool agentbin_try(const char *dir, size_t dirlen, const char *rest, char *out, size_t outsz)
{
    int n = snprintf(out, outsz, "%.*s/%s", (int)dirlen, dir, rest);

    return n > 0 && (size_t)n < outsz && agentbin_runnable(out);
}

int agentbin_find(const char *exe, const char *path, char *out, size_t outsz,
                  enum agentbin_source *source, struct err *err)
{
    const char *slash = exe ? strrchr(exe, '/') : NULL;

    if (slash) {
        /* "/droverd" lives in "/": its directory is the empty prefix, which still joins right. */
        size_t dirlen = (size_t)(slash - exe);

        if (agentbin_try(exe, dirlen, "agent/" AGENTBIN_NAME, out, outsz)) {
            *source = AGENTBIN_BUILD_TREE;
            return 0;
        }
        if (agentbin_try(exe, dirlen, AGENTBIN_NAME, out, outsz)) {
            *source = AGENTBIN_BESIDE;
            return 0;
        }
    }
    for (const char *p = path; p && *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        while (len > 1 && p[len - 1] == '/')
            len--;
        if (len > 0 && p[0] == '/' &&
            agentbin_try(p, len == 1 ? 0 : len, AGENTBIN_NAME, out, outsz)) {
            *source = AGENTBIN_PATH;
            return 0;
        }
        p = end ? end + 1 : NULL;
    }
    if (outsz)
        out[0] = '\0';
    if (slash)
        return err_set(err, ERR_NOT_FOUND,
                       "no " AGENTBIN_NAME " next to droverd (%.*s/agent/" AGENTBIN_NAME
                       " or %.*s/" AGENTBIN_NAME ") nor on PATH",
                       (int)(slash - exe), exe, (int)(slash - exe), exe);
    return err_set(err, ERR_NOT_FOUND, "no " AGENTBIN_NAME " on PATH");
}

int agentbin_self(char *out, size_t outsz, struct err *err)
{
    ssize_t n = outsz ? readlink("/proc/self/exe", out, outsz - 1) : -1;

    if (n <= 0 || (size_t)n >= outsz - 1)
        return err_set(err, ERR_INTERNAL, "cannot read /proc/self/exe: %s",
                       n < 0 ? strerror(errno) : "path too long");
    out[n] = '\0';
    return 0;
}

int agentbin_quote(const char *path, char *out, size_t outsz, struct err *err)
{
    size_t k = 0;

    if (outsz < 3)
        goto too_long;
    out[k++] = '\'';
    for (const char *c = path; *c; c++) {
        const char *piece = *c == '\'' ? "'\\''" : NULL;
        size_t plen = piece ? 4 : 1;

        if (k + plen + 2 > outsz)
            goto too_long;
        if (piece)
            memcpy(out + k, piece, plen);
        else
            out[k] = *c;
        k += plen;
    }
    out[k++] = '\'';
    out[k] = '\0';
    return 0;
too_long:
    if (outsz)
        out[0] = '\0';
    return err_set(err, ERR_INVALID, "the agent path is longer than %zu characters",
                   outsz > 3 ? outsz - 3 : 0);
}
