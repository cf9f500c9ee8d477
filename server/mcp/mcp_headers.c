/*
 * MCP 2026-07-28 request metadata headers against the body. Pure; any thread.
 */
#include "mcp/mcp_headers.h"
#include "core/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define B64_PREFIX "=?base64?"
#define B64_SUFFIX "?="

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict RFC 4648 Base64 (with padding) of s[len] into out[outsz], NUL-terminated. */
static int b64_decode(const char *s, size_t len, char *out, size_t outsz)
{
    size_t o = 0;

    if (len == 0 || len % 4 != 0)
        return -1;
    for (size_t i = 0; i < len; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)s[i + (size_t)k];
            if (c == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad || (v[k] = b64_val(c)) < 0)
                return -1; /* a character after padding, or outside the alphabet */
        }
        uint32_t n =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        if (o + 3 >= outsz)
            return -1;
        out[o++] = (char)(n >> 16);
        if (pad < 2)
            out[o++] = (char)(n >> 8 & 0xff);
        if (pad < 1)
            out[o++] = (char)(n & 0xff);
    }
    out[o] = '\0';
    return memchr(out, '\0', o) || !text_utf8_valid(out, o) ? -1 : 0;
}

int mcp_headers_decode(const char *raw, char *out, size_t outsz)
{
    size_t len;

    for (const unsigned char *p = (const unsigned char *)raw; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p > 0x7e)
            return -1; /* RFC 9110 field values: visible ASCII, space, tab */
    while (*raw == ' ' || *raw == '\t')
        raw++;
    len = strlen(raw);
    while (len && (raw[len - 1] == ' ' || raw[len - 1] == '\t'))
        len--;
    if (len >= strlen(B64_PREFIX) + strlen(B64_SUFFIX) &&
        strncmp(raw, B64_PREFIX, strlen(B64_PREFIX)) == 0 &&
        strncmp(raw + len - strlen(B64_SUFFIX), B64_SUFFIX, strlen(B64_SUFFIX)) == 0)
        return b64_decode(raw + strlen(B64_PREFIX), len - strlen(B64_PREFIX) - strlen(B64_SUFFIX),
                          out, outsz);
    if (len >= outsz)
        return -1;
    memcpy(out, raw, len);
    out[len] = '\0';
    return 0;
}

/* The body value a header mirrors, as the text a client puts in the header; false: none. */
static bool mcp_headers_body_text(const json_t *v, char *out, size_t outsz)
{
    if (json_is_string(v))
        return snprintf(out, outsz, "%s", json_string_value(v)) < (int)outsz;
    if (json_is_integer(v))
        return snprintf(out, outsz, "%lld", (long long)json_integer_value(v)) < (int)outsz;
    if (json_is_boolean(v))
        return snprintf(out, outsz, "%s", json_is_true(v) ? "true" : "false") < (int)outsz;
    return false;
}

/* One mirrored header (raw, NULL = absent) against the body value (NULL = absent). */
static int mcp_headers_match(const char *hname, const char *raw, const json_t *body, char *why,
                             size_t whysz)
{
    char hv[MCP_HEADERS_VALUE_MAX], bv[MCP_HEADERS_VALUE_MAX];
    bool has_body = body && !json_is_null(body);

    if (!raw && !has_body)
        return 0;
    if (!raw) {
        snprintf(why, whysz, "Header mismatch: %s header is required for this request", hname);
        return -1;
    }
    if (mcp_headers_decode(raw, hv, sizeof(hv)) < 0) {
        snprintf(why, whysz, "Header mismatch: %s header value is malformed", hname);
        return -1;
    }
    if (!has_body) {
        snprintf(why, whysz, "Header mismatch: %s header has no counterpart in the body", hname);
        return -1;
    }
    if (json_is_string(body) && json_string_length(body) < sizeof(bv) &&
        strcmp(hv, json_string_value(body)) == 0)
        return 0; /* the usual case, without copying the body's text first */
    if (!mcp_headers_body_text(body, bv, sizeof(bv))) {
        snprintf(why, whysz,
                 "Header mismatch: %s mirrors a value that is not a string, integer "
                 "or boolean",
                 hname);
        return -1;
    }
    if (json_is_integer(body)) { /* compared numerically: "42.0" and 42 are equal */
        char *end;
        double d = strtod(hv, &end);
        if (end != hv && *end == '\0' && d == (double)json_integer_value(body))
            return 0;
    } else if (strcmp(hv, bv) == 0)
        return 0;
    snprintf(why, whysz,
             "Header mismatch: %s header value '%.80s' does not match body value "
             "'%.80s'",
             hname, hv, bv);
    return -1;
}

/* Methods whose Mcp-Name is required, and the params field it mirrors. */
static const char *mcp_headers_name_field(const char *method)
{
    static const char *const map[][2] = {
        {"tools/call", "name"},  {"prompts/get", "name"},    {"resources/read", "uri"},
        {"tasks/get", "taskId"}, {"tasks/update", "taskId"}, {"tasks/cancel", "taskId"},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(method, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

int mcp_headers_check(const struct mcp_headers *h, const json_t *msg, const json_t *tool_schema,
                      char *why, size_t whysz)
{
    const json_t *mj = json_object_get(msg, "method"), *params = json_object_get(msg, "params");
    const char *method = json_string_value(mj);
    const char *field;
    const json_t *props, *def;
    const char *pname;

    if (h->too_long) {
        snprintf(why, whysz, "Header mismatch: a request metadata header is too long");
        return -1;
    }
    if (!h->method) {
        snprintf(why, whysz, "Header mismatch: Mcp-Method header is required");
        return -1;
    }
    if (mcp_headers_match("Mcp-Method", h->method, mj, why, whysz) < 0)
        return -1;
    field = method ? mcp_headers_name_field(method) : NULL;
    if (field &&
        mcp_headers_match("Mcp-Name", h->name, json_object_get(params, field), why, whysz) < 0)
        return -1;
    props = json_object_get(tool_schema, "properties");
    json_object_foreach((json_t *)props, pname, def)
    {
        const json_t *x = json_object_get(def, "x-mcp-header");
        const char *raw = NULL;
        char hname[80];
        if (!json_is_string(x))
            continue;
        for (size_t i = 0; i < h->nparams; i++)
            if (strcasecmp(h->params[i].name, json_string_value(x)) == 0)
                raw = h->params[i].value;
        snprintf(hname, sizeof(hname), "Mcp-Param-%.60s", json_string_value(x));
        if (mcp_headers_match(hname, raw,
                              json_object_get(json_object_get(params, "arguments"), pname), why,
                              whysz) < 0)
            return -1;
    }
    return 0;
}

void mcp_headers_schema_names(const json_t *schema, const char **names, size_t *n, size_t max)
{
    const char *key;
    const json_t *def;

    json_object_foreach((json_t *)json_object_get(schema, "properties"), key, def)
    {
        const char *x = json_string_value(json_object_get(def, "x-mcp-header"));
        bool dup = false;
        (void)key;
        for (size_t i = 0; x && i < *n; i++)
            dup = dup || strcasecmp(names[i], x) == 0;
        if (x && !dup && *n < max)
            names[(*n)++] = x;
    }
}
