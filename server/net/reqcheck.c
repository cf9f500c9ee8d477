/* Header checks on plain strings; see reqcheck.h. */
#include "net/reqcheck.h"

#include <limits.h>

#include <string.h>
#include <strings.h>

bool reqcheck_origin(const struct cfg *c, const char *origin, bool origin_toolong, const char *host,
                     bool host_toolong)
{
    char v[300];
    char *colon;
    bool ok = false;

    if (origin_toolong)
        return false;
    if (origin && *origin) {
        for (int i = 0; i < c->norigins && !ok; i++)
            ok = strcasecmp(origin, c->origins[i]) == 0;
        if (!ok)
            return false;
    }
    /* Host matters for a loopback server (a rebinding page resolves to 127.0.0.1); behind a
     * Service or ingress the Host is whatever the operator named it, so only an explicit list
     * is enforced there. */
    if (!cfg_is_loopback(c) && !c->hosts_explicit)
        return true;
    if (host_toolong)
        return false;
    if (!host || !*host)
        return true; /* HTTP/1.0 without Host: nothing to rebind */
    if (strlen(host) >= sizeof(v))
        return false;
    strcpy(v, host);
    colon = strrchr(v, ':');
    if (colon && !strchr(colon, ']'))
        *colon = '\0';
    ok = false;
    for (int i = 0; i < c->nhosts && !ok; i++)
        ok = strcasecmp(v, c->hosts[i]) == 0;
    return ok;
}

bool reqcheck_accept(const char *a)
{
    if (!a)
        return false;
    return (strstr(a, "application/json") || strstr(a, "*/*")) && strstr(a, "text/event-stream");
}

bool reqcheck_ctype_json(const char *c)
{
    if (!c)
        return false;
    return strncasecmp(c, "application/json", 16) == 0 &&
           (c[16] == '\0' || c[16] == ';' || c[16] == ' ');
}

const char *reqcheck_bearer(const char *a)
{
    if (!a || strncasecmp(a, "Bearer ", 7) != 0)
        return NULL;
    return a + 7 + strspn(a + 7, " ");
}

long long reqcheck_content_length(const char *v)
{
    long long n = 0;

    /* RFC 9110 §8.6: 1*DIGIT. No sign, no spaces inside, no list ("5, 5"), no overflow. */
    if (!v || !*v)
        return -2;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9')
            return -2;
        if (n > (LLONG_MAX - 9) / 10)
            return -2;
        n = n * 10 + (*p - '0');
    }
    return n;
}
