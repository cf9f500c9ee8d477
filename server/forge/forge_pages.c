/*
 * Every page of a forge's list, as the forge publishes where the next one is: GitLab's
 * X-Next-Page, else RFC 8288's Link header with rel="next" (GitHub, Gitea/Forgejo, GitLab).
 * The next page's URL is the forge's to name, but droverd asks only its own API URL for it:
 * the URL's path must lie under the API URL's path, and only that path and query are kept.
 * Worker threads only (blocking).
 */
#include "core/buf.h"
#include "core/mem.h"
#include "forge/forge_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The path part of `url` ("/api/v4/x?y" of "https://host/api/v4/x?y"), "" when it has none. */
static const char *forge_pages_path_of(const char *url)
{
    const char *p = strstr(url, "://");

    p = p ? strpbrk(p + 3, "/?") : url;
    return p ? p : "";
}

/* `path` with its "page" query parameter (only that one, not "per_page") set to `page`. */
static char *forge_pages_with_page(const char *path, const char *page)
{
    const char *q = strchr(path, '?');
    struct buf b;
    char sep = '?';

    buf_init(&b, 1u << 16);
    buf_append(&b, path, q ? (size_t)(q - path) : strlen(path));
    for (const char *p = q ? q + 1 : NULL; p && *p;) {
        size_t n = strcspn(p, "&");

        if (!(n >= 5 && strncmp(p, "page=", 5) == 0) && n > 0) {
            buf_appendf(&b, "%c%.*s", sep, (int)n, p);
            sep = '&';
        }
        p += n + (p[n] == '&');
    }
    buf_appendf(&b, "%cpage=%s", sep, page);
    return buf_take(&b, NULL);
}

/* The rel="next" target of a Link header ("<url>; rel=\"next\", <url>; rel=\"last\""). Owned,
 * or NULL. */
static char *forge_pages_link_next(const char *link)
{
    for (const char *p = link; p && *p;) {
        const char *lt = strchr(p, '<'), *gt = lt ? strchr(lt, '>') : NULL;
        const char *end = gt ? strchr(gt, ',') : NULL;
        size_t pl = gt ? (end ? (size_t)(end - gt) : strlen(gt)) : 0;

        if (!gt)
            return NULL;
        for (size_t i = 1; i + 3 < pl; i++) {
            const char *r = gt + i;

            if (strncasecmp(r, "rel=", 4) != 0)
                continue;
            r += 4 + (r[4] == '"');
            /* rel may list several relation types: "next" among them. */
            while (r < gt + pl && *r != '"' && *r != ';') {
                size_t w = strcspn(r, " \";,");

                if (w == 4 && strncasecmp(r, "next", 4) == 0)
                    return mem_printf("%.*s", (int)(gt - lt - 1), lt + 1);
                r += w + (r[w] == ' ');
            }
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

char *forge_pages_next(const struct forge *f, const char *path, const struct forge_http_resp *r,
                       bool *elsewhere)
{
    const char *base = forge_pages_path_of(f->api_url ? f->api_url : "");
    size_t bl = strcspn(base, "?");
    char *next, *out = NULL;
    const char *np;

    *elsewhere = false;
    if (r->next_page && *r->next_page) {
        bool digits = true;

        for (const char *c = r->next_page; *c; c++)
            digits = digits && isdigit((unsigned char)*c);
        if (digits)
            return forge_pages_with_page(path, r->next_page);
    }
    next = r->link ? forge_pages_link_next(r->link) : NULL;
    if (!next)
        return NULL;
    while (bl && base[bl - 1] == '/')
        bl--;
    np = forge_pages_path_of(next);
    if (strncmp(np, base, bl) == 0 && (np[bl] == '/' || np[bl] == '?'))
        out = mem_strdup(np + bl);
    else
        *elsewhere = true; /* not under the API URL: the token does not follow it there */
    free(next);
    return out;
}

int forge_pages_get(const struct forge *f, const char *path, const char *what, size_t max_items,
                    json_t **items, bool *cut, struct err *err)
{
    char *cur = mem_strdup(path);
    json_t *all = json_array();
    int rc = -1;

    *items = NULL;
    *cut = false;
    for (int n = 0; cur; n++) {
        struct forge_http_resp r;
        bool elsewhere = false;
        char *next = NULL;
        size_t i;
        json_t *v;

        if (n == FORGE_PAGES_MAX) {
            *cut = true;
            break;
        }
        if (forge_http_request(f, "GET", cur, NULL, &r, err) < 0)
            goto out;
        if (r.status != 200 || !json_is_array(r.json)) {
            forge_http_fail(&r, what, err);
            forge_http_resp_clear(&r);
            rc = 1;
            goto out;
        }
        json_array_foreach(r.json, i, v)
        {
            if (json_array_size(all) >= max_items) {
                *cut = true;
                break;
            }
            json_array_append(all, v);
        }
        if (json_array_size(r.json) > 0)
            next = forge_pages_next(f, cur, &r, &elsewhere);
        forge_http_resp_clear(&r);
        if (next && (json_array_size(all) >= max_items || strcmp(next, cur) == 0)) {
            free(next); /* more than the bound, or a forge that names the same page again */
            next = NULL;
            *cut = true;
        }
        *cut = *cut || elsewhere;
        free(cur);
        cur = next;
    }
    *items = all;
    all = NULL;
    rc = 0;
out:
    free(cur);
    json_decref(all);
    return rc;
}
