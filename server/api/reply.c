/* Shared REST reply and request helpers. Any thread. */
#include "api/reply.h"
#include "core/mem.h"
#include "core/text.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int reply_json(struct api_response *resp, int status, json_t *body)
{
    resp->status = status;
    json_decref(resp->body);
    resp->body = body;
    return 0;
}

int reply_err(struct api_response *resp, const struct err *err)
{
    enum err_code code = err->code == ERR_OK ? ERR_INTERNAL : err->code;

    return reply_json(resp, err_http_status(code),
                      json_pack("{s:{s:s,s:s}}", "error", "code",
                                err->reason ? err->reason : err_code_name(code), "message",
                                err->msg[0] ? err->msg : "request failed"));
}

int reply_moved(struct api_response *resp, int rc, json_t *task, struct err *err)
{
    if (rc < 0) {
        json_decref(task);
        if (err->code == ERR_CONFLICT && !err->reason)
            err->reason = "invalid_transition";
        return reply_err(resp, err);
    }
    return reply_json(resp, 200, task);
}

int reply_error(struct api_response *resp, enum err_code code, const char *reason, const char *fmt,
                ...)
{
    struct err e = {.code = code, .reason = reason};
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
    va_end(ap);
    return reply_err(resp, &e);
}

int reply_body_object(const struct api_request *req, struct api_response *resp, json_t **out)
{
    json_error_t je;
    json_t *j;

    *out = NULL;
    if (!req->body || req->body_len == 0) {
        reply_error(resp, ERR_INVALID, "body_required", "send a JSON object as the request body");
        return -1;
    }
    if (req->body_len > REPLY_BODY_MAX) {
        reply_error(resp, ERR_TOO_LARGE, "body_too_large",
                    "the request body is larger than %d bytes", REPLY_BODY_MAX);
        return -1;
    }
    j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        reply_error(resp, ERR_INVALID, "invalid_json", "the body is not valid JSON: %s (line %d)",
                    je.text, je.line);
        return -1;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        reply_error(resp, ERR_INVALID, "body_not_object", "the body must be a JSON object");
        return -1;
    }
    *out = j;
    return 0;
}

static int reply_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int reply_query(const char *query, const char *name, char *out, size_t outsz)
{
    size_t nlen = strlen(name);
    const char *p = query;

    if (!p)
        return 0;
    while (*p) {
        const char *end = strchr(p, '&');
        const char *eq;
        size_t seglen = end ? (size_t)(end - p) : strlen(p);

        eq = memchr(p, '=', seglen);
        if ((size_t)((eq ? eq : p + seglen) - p) == nlen && strncmp(p, name, nlen) == 0) {
            const char *v = eq ? eq + 1 : p + seglen;
            const char *vend = p + seglen;
            size_t o = 0;

            while (v < vend) {
                int c = (unsigned char)*v;

                if (c == '+') {
                    c = ' ';
                    v++;
                } else if (c == '%' && vend - v >= 3 && reply_hex(v[1]) >= 0 &&
                           reply_hex(v[2]) >= 0) {
                    c = reply_hex(v[1]) * 16 + reply_hex(v[2]);
                    v += 3;
                } else {
                    v++;
                }
                if (o + 1 >= outsz || c == 0)
                    return -1;
                out[o++] = (char)c;
            }
            out[o] = '\0';
            return text_utf8_valid(out, o) ? 1 : -1;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

int reply_path_id(const char *s, const char *what, struct api_response *resp, int64_t *id)
{
    char *end;
    long long v;

    errno = 0;
    v = s && *s && isdigit((unsigned char)*s) ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || errno || v <= 0 || *end) {
        reply_error(resp, ERR_INVALID, "invalid_id", "%s id must be a positive integer", what);
        return -1;
    }
    *id = v;
    return 0;
}

int reply_query_int(const struct api_request *req, const char *name, long long min, long long max,
                    long long def, struct api_response *resp, long long *out)
{
    char v[32], *end;
    int got = reply_query(req->query, name, v, sizeof(v));
    long long n;

    *out = def;
    if (got == 0)
        return 0;
    errno = 0;
    n = got > 0 && v[0] ? strtoll(v, &end, 10) : 0;
    if (got < 0 || !v[0] || errno || *end || n < min || n > max) {
        reply_error(resp, ERR_INVALID, "invalid_parameter",
                    "%s must be an integer from %lld to %lld", name, min, max);
        return -1;
    }
    *out = n;
    return 0;
}

int reply_member_string(json_t *obj, const char *name, struct api_response *resp, const char **out)
{
    json_t *v = json_object_get(obj, name);

    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        reply_error(resp, ERR_INVALID, "invalid_field", "%s must be a string", name);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

int reply_member_int(json_t *obj, const char *name, long long min, long long max,
                     struct api_response *resp, long long *out, bool *present)
{
    json_t *v = json_object_get(obj, name);

    if (present)
        *present = false;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        reply_error(resp, ERR_INVALID, "invalid_field", "%s must be an integer from %lld to %lld",
                    name, min, max);
        return -1;
    }
    *out = json_integer_value(v);
    if (present)
        *present = true;
    return 0;
}

const char *reply_actor(const struct api_request *req)
{
    return req->who && req->who->name[0] ? req->who->name : "admin";
}
