/*
 * libFuzzer target: droverd's request validation on header values (server/net/reqcheck.c:
 * Host / Origin allow-lists, Accept, Content-Type, Authorization), the static file lookup
 * (server/net/assets.c, which must never serve anything but an embedded file) and the REST
 * router's path matcher (server/api/router.c). The input is NUL-separated fields.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/router.h"
#include "net/assets.h"
#include "net/reqcheck.h"
#include "core/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *field(const char **p, const char *end)
{
    const char *s = *p;
    const char *z = memchr(s, 0, (size_t)(end - s));

    if (!z)
        return NULL;
    *p = z + 1;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cfg c;
    static bool init;
    char *copy = malloc(size + 1);
    const char *p = copy, *end = copy + size + 1;
    const char *origin, *host, *accept, *ctype, *auth, *path, *pattern;
    const struct assets_file *f;

    if (!init) {
        strcpy(c.listen_host, "127.0.0.1");
        c.origins[0] = "http://127.0.0.1:8080";
        c.origins[1] = "http://localhost:8080";
        c.norigins = 2;
        c.hosts[0] = "127.0.0.1";
        c.hosts[1] = "localhost";
        c.hosts[2] = "[::1]";
        c.nhosts = 3;
        init = true;
    }
    memcpy(copy, data, size);
    copy[size] = '\0';
    origin = field(&p, end);
    host = field(&p, end);
    accept = field(&p, end);
    ctype = field(&p, end);
    auth = field(&p, end);
    path = field(&p, end);
    pattern = field(&p, end);

    c.hosts_explicit = size && (data[0] & 1);
    if (reqcheck_origin(&c, origin, false, host, false)) {
        /* Accepted: an Origin present is on the list verbatim (case aside). */
        if (origin && *origin && strcasecmp(origin, c.origins[0]) != 0 &&
            strcasecmp(origin, c.origins[1]) != 0)
            __builtin_trap();
    }
    if (reqcheck_origin(&c, origin, true, host, false))
        __builtin_trap(); /* an over-long Origin is always refused */
    (void)reqcheck_accept(accept);
    if (reqcheck_ctype_json(ctype) && strncasecmp(ctype, "application/json", 16) != 0)
        __builtin_trap();
    {
        const char *tok = reqcheck_bearer(auth);
        if (tok && (tok < auth || tok > auth + strlen(auth)))
            __builtin_trap();
    }
    f = assets_find(path ? path : copy);
    if (f) {
        /* Only embedded files: the path named is one of them, and never climbs. */
        if (strstr(f->path, "..") || f->path[0] != '/')
            __builtin_trap();
        (void)assets_mime(f->path);
    }
    if (path && pattern) {
        char buf[512];
        const char *params[ROUTER_MAX_PARAMS];
        size_t n = 0;

        if (router_match(pattern, path, buf, sizeof(buf), params, &n) && n > ROUTER_MAX_PARAMS)
            __builtin_trap();
    }
    free(copy);
    return 0;
}
