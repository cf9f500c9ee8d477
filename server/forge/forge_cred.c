/*
 * Forge credentials follow the forge, not the repository URL: a project whose URL an admin
 * points at another host must not hand that host the token (in git's requests or curl's). Each
 * request that would carry a token is checked against the forge's allow-list first; schemes
 * droverd's own git may use are limited (a local repository's hooks would run as droverd).
 * Pure; any thread.
 */
#include "core/mem.h"
#include "core/text.h"
#include "forge/forge_backend.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *forge_cred_scheme(const char *url, char *buf, size_t sz)
{
    const char *sep = strstr(url, "://"), *colon, *slash;
    size_t n;

    if (sep) {
        n = (size_t)(sep - url);
        for (size_t i = 0; i < n; i++)
            if (!isalnum((unsigned char)url[i]) && !strchr("+-.", url[i]))
                return "unknown";
        snprintf(buf, sz, "%.*s", (int)n, url);
        for (char *p = buf; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (strncmp(buf, "git+ssh", 7) == 0 || strncmp(buf, "ssh+git", 7) == 0)
            return "ssh";
        return buf;
    }
    colon = strchr(url, ':');
    slash = strchr(url, '/');
    /* git's remote helpers: <transport>::<address> (ext::, fd::, ...). */
    if (colon && colon[1] == ':' && (!slash || colon < slash)) {
        snprintf(buf, sz, "%.*s", (int)(colon - url), url);
        return buf;
    }
    /* git's scp-like syntax: [user@]host:path, with no slash before the colon. */
    if (colon && colon != url && (!slash || colon < slash))
        return "ssh";
    return "file"; /* a local path, whatever it looks like */
}

/* `s` (a comma/space separated list) holds `word`. */
static bool forge_cred_listed(const char *s, const char *word)
{
    size_t w = strlen(word);

    while (s && *s) {
        size_t n;

        s += strspn(s, ", \t");
        n = strcspn(s, ", \t");
        if (n == w && strncasecmp(s, word, n) == 0)
            return true;
        s += n;
    }
    return false;
}

/* scheme://host[:port] of `url` (user info dropped), lower-cased; "" when it has none. */
static void forge_cred_origin(const char *url, char *out, size_t sz)
{
    const char *sep = url ? strstr(url, "://") : NULL, *host, *end, *at;

    out[0] = '\0';
    if (!sep)
        return;
    host = sep + 3;
    end = host + strcspn(host, "/?#");
    at = memchr(host, '@', (size_t)(end - host));
    if (at)
        host = at + 1;
    snprintf(out, sz, "%.*s://%.*s", (int)(sep - url), url, (int)(end - host), host);
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

/* `url` starts with `prefix` on a boundary (user info in url ignored). */
static bool forge_cred_under(const char *url, const char *prefix, size_t plen)
{
    char o[512];
    const char *sep = strstr(url, "://"), *path;
    char *norm;
    bool ok;

    forge_cred_origin(url, o, sizeof(o));
    if (!o[0] || !sep)
        return false;
    path = sep + 3 + strcspn(sep + 3, "/?#");
    norm = mem_printf("%s%s", o, path);
    ok = strncasecmp(norm, prefix, plen) == 0 &&
         (prefix[plen - 1] == '/' || norm[plen] == '\0' || norm[plen] == '/');
    free(norm);
    return ok;
}

static bool forge_cred_allowed(const struct forge *f, const char *url)
{
    const char *s = f->allow;
    char own[512], got[512];

    if (s && *s) {
        while (*s) {
            size_t n;

            s += strspn(s, ", \t");
            n = strcspn(s, ", \t");
            if (n && forge_cred_under(url, s, n))
                return true;
            s += n;
        }
        return false;
    }
    /* No list: the forge's own origin only. For the API forges that is the API's host, and
     * the repository may live on that host or the one it serves (api.github.com: github.com). */
    forge_cred_origin(url, got, sizeof(got));
    if (f->kind == FORGE_GIT)
        forge_cred_origin(f->repo_url, own, sizeof(own));
    else
        forge_cred_origin(f->api_url && *f->api_url ? f->api_url
                          : f->kind == FORGE_GITHUB ? "https://api.github.com"
                                                    : "",
                          own, sizeof(own));
    if (!got[0] || !own[0])
        return false;
    if (strcmp(got, own) == 0)
        return true;
    {
        const char *sep = strstr(own, "://");
        char alt[540];

        if (sep && strncmp(sep + 3, "api.", 4) == 0) {
            snprintf(alt, sizeof(alt), "%.*s%s", (int)(sep + 3 - own), own, sep + 7);
            return strcmp(got, alt) == 0;
        }
    }
    return false;
}

int forge_cred_check(const struct forge *f, const char *url, bool with_token, struct err *err)
{
    char buf[32];
    const char *scheme;
    char *safe;
    int rc = 0;

    if (!url || !*url)
        return err_set(err, ERR_INVALID, "no URL");
    scheme = forge_cred_scheme(url, buf, sizeof(buf));
    safe = text_url_redact(url);
    if (f->protocols && *f->protocols && !forge_cred_listed(f->protocols, scheme))
        rc = err_set(err, ERR_FORBIDDEN,
                     "repository URL %s: the %s protocol is not enabled (allowed: %s; see "
                     "DROVER_REPO_PROTOCOLS in docs/operations.md)",
                     safe, scheme, f->protocols);
    else if (with_token && strcmp(scheme, "ssh") != 0 && strcmp(scheme, "file") != 0 &&
             !forge_cred_allowed(f, url))
        rc = err_set(err, ERR_FORBIDDEN,
                     "the forge credential is not for %s: it is bound to %s (see "
                     "DROVER_FORGE_ALLOW in docs/operations.md)",
                     safe, f->allow && *f->allow ? f->allow : "the forge's own URL");
    free(safe);
    return rc;
}
