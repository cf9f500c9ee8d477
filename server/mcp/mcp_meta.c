/*
 * The _meta envelope of 2026-07-28 requests, parsed once per worker thread. Worker threads.
 */
#include "mcp/mcp_meta.h"
#include "core/text.h"
#include "mcp/jrpc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* One envelope: its text as sent, and its parse (a reference the cache holds). */
struct mcp_meta_slot {
    size_t len;
    int depth; /* jrpc_depth of the text */
    json_t *value;
    char text[MCP_META_BYTES];
};

struct mcp_meta_cache {
    unsigned next; /* the slot a new envelope replaces: round robin */
    struct mcp_meta_slot slot[MCP_META_SLOTS];
};

static pthread_once_t mcp_meta_once = PTHREAD_ONCE_INIT;
static pthread_key_t mcp_meta_key;

/* At thread exit: the thread's envelopes go with it. */
static void mcp_meta_free(void *p)
{
    struct mcp_meta_cache *c = p;

    for (size_t i = 0; i < MCP_META_SLOTS; i++)
        json_decref(c->slot[i].value);
    free(c);
}

static void mcp_meta_init(void)
{
    (void)pthread_key_create(&mcp_meta_key, mcp_meta_free);
}

/* The calling thread's cache, or NULL (out of memory: no cache, parse as usual). */
static struct mcp_meta_cache *mcp_meta_mine(void)
{
    struct mcp_meta_cache *c;

    pthread_once(&mcp_meta_once, mcp_meta_init);
    c = pthread_getspecific(mcp_meta_key);
    if (!c && (c = calloc(1, sizeof(*c))) && pthread_setspecific(mcp_meta_key, c) != 0) {
        free(c);
        c = NULL;
    }
    return c;
}

/* What the scan found kept: the cache to look in, the value of the text it matched. */
struct mcp_meta_hit {
    struct mcp_meta_cache *c;
    json_t *value;
};

/* The jrpc_known_fn of the scan: a kept envelope text that s[avail] starts with. */
static size_t mcp_meta_known(void *arg, const char *s, size_t avail, int *depth)
{
    struct mcp_meta_hit *h = arg;

    for (size_t i = 0; i < MCP_META_SLOTS; i++) {
        const struct mcp_meta_slot *sl = &h->c->slot[i];
        if (sl->value && sl->len <= avail && memcmp(sl->text, s, sl->len) == 0) {
            h->value = sl->value;
            *depth = sl->depth;
            return sl->len;
        }
    }
    return 0;
}

/* Parse envelope text s[n] (already checked as part of its body) into a slot: the value
 * (borrowed), or NULL when it does not parse on its own (the body's parse reports why). */
static json_t *mcp_meta_add(struct mcp_meta_cache *c, const char *s, size_t n)
{
    struct mcp_meta_slot *sl;
    json_error_t je;
    json_t *v;

    /* The flags of jrpc_load, so a value parsed alone is the value parsed in place. */
    if (!(v = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je)))
        return NULL;
    sl = &c->slot[c->next++ % MCP_META_SLOTS];
    json_decref(sl->value);
    memcpy(sl->text, s, n);
    sl->len = n;
    sl->depth = jrpc_depth(s, n);
    sl->value = v;
    return v;
}

int mcp_meta_parse(const char *body, size_t len, json_t **out, int *code, char *msg, size_t msgsz)
{
    char small[2048], *rest = small;
    struct mcp_meta_hit hit = {0};
    struct jrpc_span sp;
    size_t off, n, rlen;
    json_t *meta, *params, *ph;
    int rc;

    *out = NULL;
    if (!body || !(hit.c = mcp_meta_mine()) ||
        !jrpc_meta_span(body, len, mcp_meta_known, &hit, &sp) || sp.n > MCP_META_BYTES)
        return jrpc_parse(body, len, out, code, msg, msgsz);
    off = sp.off;
    n = sp.n;
    if ((meta = hit.value)) {
        /* jrpc_check's checks, the envelope's text being one that passed them already; any
         * failure: jrpc_parse of the body as sent, for its error. */
        if (sp.depth > JRPC_MAX_DEPTH || !text_utf8_valid(body, off) ||
            !text_utf8_valid(body + off + n, len - off - n))
            return jrpc_parse(body, len, out, code, msg, msgsz);
    } else if (jrpc_check(body, len, code, msg, msgsz) < 0)
        return -1;
    else if (!(meta = mcp_meta_add(hit.c, body + off, n)))
        return jrpc_load(body, len, out, code, msg, msgsz);
    /* The body with the envelope as 0: a placeholder (the cheapest value to parse) in its place;
     * a duplicate "_meta" key, say, is still the parser's error. */
    rlen = len - n + 1;
    if (rlen > sizeof(small) && !(rest = malloc(rlen)))
        return jrpc_load(body, len, out, code, msg, msgsz);
    memcpy(rest, body, off);
    rest[off] = '0';
    memcpy(rest + off + 1, body + off + n, len - off - n);
    rc = jrpc_load(rest, rlen, out, code, msg, msgsz);
    if (rest != small)
        free(rest);
    params = rc == 0 ? json_object_get(*out, "params") : NULL;
    ph = json_object_get(params, "_meta");
    if (!json_is_integer(ph) || json_integer_value(ph) != 0) {
        /* Not what the scan made of it (or invalid elsewhere): the body as sent, its errors. */
        json_decref(*out);
        *out = NULL;
        return jrpc_load(body, len, out, code, msg, msgsz);
    }
    json_object_set(params, "_meta", meta);
    return 0;
}
