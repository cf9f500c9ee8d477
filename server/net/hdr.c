/*
 * Request headers off an lws connection (net/hdr.h). Service thread only.
 */
#include "net/hdr.h"
#include "core/buf.h"
#include "core/mem.h"
#include "net/reqcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hdr_copy(struct lws *wsi, enum lws_token_indexes t, char *out, int outsz)
{
    int n = lws_hdr_total_length(wsi, t);

    out[0] = '\0';
    if (n <= 0 || n >= outsz)
        return n <= 0 ? -1 : -2; /* -2: present but too long */
    return lws_hdr_copy(wsi, out, outsz, t) < 0 ? -1 : n;
}

int hdr_custom(struct lws *wsi, const char *name, char *out, int outsz)
{
    int nl = (int)strlen(name), n = lws_hdr_custom_length(wsi, name, nl);

    out[0] = '\0';
    if (n <= 0 || n >= outsz)
        return n <= 0 ? -1 : -2;
    return lws_hdr_custom_copy(wsi, out, outsz, name, nl) < 0 ? -1 : n;
}

char *hdr_custom_dup(struct lws *wsi, const char *name, int max)
{
    char b[512];

    if (max > (int)sizeof(b))
        max = sizeof(b);
    return hdr_custom(wsi, name, b, max) > 0 ? mem_strdup(b) : NULL;
}

char *hdr_bearer(struct lws *wsi)
{
    char a[256];
    const char *tok;

    if (hdr_copy(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, a, sizeof(a)) <= 0)
        return NULL;
    tok = reqcheck_bearer(a);
    return tok ? mem_strdup(tok) : NULL;
}

bool hdr_origin_ok(const struct cfg *cfg, struct lws *wsi)
{
    char o[300], h[300];
    int on = hdr_copy(wsi, WSI_TOKEN_ORIGIN, o, sizeof(o));
    int hn = hdr_copy(wsi, WSI_TOKEN_HOST, h, sizeof(h));

    return reqcheck_origin(cfg, on > 0 ? o : NULL, on == -2, hn > 0 ? h : NULL, hn == -2);
}

bool hdr_accept_ok(struct lws *wsi)
{
    char a[512];

    return hdr_copy(wsi, WSI_TOKEN_HTTP_ACCEPT, a, sizeof(a)) > 0 && reqcheck_accept(a);
}

bool hdr_ctype_json(struct lws *wsi)
{
    char c[128];

    return hdr_copy(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, c, sizeof(c)) > 0 && reqcheck_ctype_json(c);
}

const char *hdr_method(struct lws *wsi, char *uri, int urisz)
{
    static const struct {
        enum lws_token_indexes t;
        const char *m;
    } ms[] = {{WSI_TOKEN_GET_URI, "GET"},       {WSI_TOKEN_POST_URI, "POST"},
              {WSI_TOKEN_DELETE_URI, "DELETE"}, {WSI_TOKEN_PUT_URI, "PUT"},
              {WSI_TOKEN_PATCH_URI, "PATCH"},   {WSI_TOKEN_OPTIONS_URI, "OPTIONS"}};

    for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
        if (lws_hdr_total_length(wsi, ms[i].t) > 0) {
            if (hdr_copy(wsi, ms[i].t, uri, urisz) <= 0)
                return NULL;
            return ms[i].m;
        }
    return NULL;
}

long long hdr_content_length(struct lws *wsi)
{
    char v[32];

    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
        return -1;
    if (hdr_copy(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, v, sizeof(v)) <= 0)
        return -2; /* longer than any length we could take */
    return reqcheck_content_length(v);
}

char *hdr_query(struct lws *wsi)
{
    char q[1024];

    q[0] = '\0';
    for (int i = 0, used = 0; i < 32; i++) {
        char frag[512];
        int fl = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
        if (fl <= 0)
            break;
        if (used + fl + 2 >= (int)sizeof(q))
            break;
        used += snprintf(q + used, sizeof(q) - (size_t)used, "%s%s", used ? "&" : "", frag);
    }
    return mem_strdup(q);
}

/* The headers forges sign and identify their webhook deliveries with (api/forgehooks.c). */
static const char *const hdr_hook_names[] = {
    "x-gitea-signature:", "x-forgejo-signature:",  "x-hub-signature-256:",
    "x-gitlab-token:",    "webhook-signature:",    "webhook-id:",
    "webhook-timestamp:", "x-gitea-event:",        "x-gitea-event-type:",
    "x-forgejo-event:",   "x-forgejo-event-type:", "x-github-event:",
    "x-gitlab-event:",    "x-gitea-delivery:",     "x-forgejo-delivery:",
    "x-github-delivery:", "x-gitlab-event-uuid:",  NULL};

char *hdr_hooks(struct lws *wsi)
{
    struct buf b;
    char v[512];

    buf_init(&b, 8192);
    for (int i = 0; hdr_hook_names[i]; i++) {
        const char *n = hdr_hook_names[i];

        if (hdr_custom(wsi, n, v, sizeof(v)) > 0)
            buf_appendf(&b, "%.*s: %s\n", (int)strlen(n) - 1, n, v);
    }
    if (b.len == 0) {
        buf_clear(&b);
        return NULL;
    }
    return buf_take(&b, NULL);
}
