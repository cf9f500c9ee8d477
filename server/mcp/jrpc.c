/*
 * JSON-RPC 2.0 framing. Pure; any thread.
 */
#include "mcp/jrpc.h"
#include "core/text.h"

#include <stdio.h>
#include <string.h>

int jrpc_depth(const char *s, size_t len)
{
    int depth = 0, max = 0;
    bool in_str = false;

    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '[' || c == '{') {
            if (++depth > max)
                max = depth;
        } else if (c == ']' || c == '}')
            depth--;
    }
    return max;
}

int jrpc_check(const char *body, size_t len, int *code, char *msg, size_t msgsz)
{
    *code = JRPC_PARSE_ERROR;
    if (!body || len == 0) {
        snprintf(msg, msgsz, "Parse error: empty body");
        return -1;
    }
    if (!text_utf8_valid(body, len)) {
        snprintf(msg, msgsz, "Parse error: body is not valid UTF-8");
        return -1;
    }
    /* Checked before parsing so a hostile body never drives jansson's recursion deep. */
    if (jrpc_depth(body, len) > JRPC_MAX_DEPTH) {
        snprintf(msg, msgsz, "Parse error: JSON nested deeper than %d levels", JRPC_MAX_DEPTH);
        return -1;
    }
    *code = 0;
    msg[0] = '\0';
    return 0;
}

int jrpc_load(const char *body, size_t len, json_t **out, int *code, char *msg, size_t msgsz)
{
    json_error_t je;

    *code = JRPC_PARSE_ERROR;
    *out = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!*out) {
        snprintf(msg, msgsz, "Parse error: %s (line %d, column %d)", je.text, je.line, je.column);
        return -1;
    }
    if (!json_is_object(*out) && !json_is_array(*out)) {
        *code = JRPC_INVALID_REQUEST;
        snprintf(msg, msgsz, "Invalid Request: a message must be a JSON object");
        json_decref(*out);
        *out = NULL;
        return -1;
    }
    *code = 0;
    msg[0] = '\0';
    return 0;
}

int jrpc_parse(const char *body, size_t len, json_t **out, int *code, char *msg, size_t msgsz)
{
    *out = NULL;
    if (jrpc_check(body, len, code, msg, msgsz) < 0)
        return -1;
    return jrpc_load(body, len, out, code, msg, msgsz);
}

/* What the next string at a depth is, to jrpc_meta_span: a key of interest, or neither. */
enum jrpc_key { JRPC_KEY_OTHER, JRPC_KEY_PARAMS, JRPC_KEY_META };

/* The closing quote of the string whose text starts at s[b]: its index, or len when none. */
static size_t jrpc_string_end(const char *s, size_t len, size_t b)
{
    for (size_t i = b;;) {
        const char *q = memchr(s + i, '"', len - i);
        size_t j, k;

        if (!q)
            return len;
        j = (size_t)(q - s);
        for (k = j; k > b && s[k - 1] == '\\'; k--)
            ;
        if ((j - k) % 2 == 0) /* not escaped: an even run of backslashes before it */
            return j;
        i = j + 1;
    }
}

bool jrpc_meta_span(const char *s, size_t len, jrpc_known_fn known, void *arg, struct jrpc_span *sp)
{
    /* Depths 1 (the message) and 2 (params) only: is it an object, is a key next, which key
     * came last. in_params: depth 2 is the object of the message's "params". */
    bool obj[3] = {false}, key_next[3] = {false}, in_params = false, in_meta = false;
    enum jrpc_key last[3] = {JRPC_KEY_OTHER};
    int depth = 0, kd;
    size_t start = 0, k;
    bool found = false;

    memset(sp, 0, sizeof(*sp));
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '"') {
            size_t b = i + 1;
            if ((i = jrpc_string_end(s, len, b)) >= len)
                return false;
            if (depth >= 1 && depth <= 2 && obj[depth] && key_next[depth]) {
                size_t kl = i - b;
                if (memchr(s + b, '\\', kl))
                    return false; /* an escaped key may spell "params" or "_meta": not ours */
                last[depth] = depth == 1 && kl == 6 && memcmp(s + b, "params", 6) == 0
                                  ? JRPC_KEY_PARAMS
                              : depth == 2 && in_params && kl == 5 && memcmp(s + b, "_meta", 5) == 0
                                  ? JRPC_KEY_META
                                  : JRPC_KEY_OTHER;
                key_next[depth] = false;
            }
        } else if (c == '{' || c == '[') {
            if (++depth > sp->depth)
                sp->depth = depth;
            if (depth == 2)
                in_params = c == '{' && obj[1] && last[1] == JRPC_KEY_PARAMS;
            if (depth == 3 && c == '{' && in_params && last[2] == JRPC_KEY_META) {
                if (found)
                    return false; /* twice: the parser's duplicate-key error, not ours */
                start = i;
                in_meta = true;
                if (known && (k = known(arg, s + i, len - i, &kd)) > 0) {
                    /* A whole object scanned before: it closes at its last byte, depth 2. */
                    if (2 + kd > sp->depth)
                        sp->depth = 2 + kd;
                    sp->off = start;
                    sp->n = k;
                    sp->known = found = true;
                    in_meta = false;
                    depth = 2;
                    i += k - 1;
                    continue;
                }
            }
            if (depth <= 2) {
                obj[depth] = key_next[depth] = c == '{';
                last[depth] = JRPC_KEY_OTHER;
            }
        } else if (c == '}' || c == ']') {
            if (depth == 3 && in_meta) {
                sp->off = start;
                sp->n = i + 1 - start;
                found = true;
                in_meta = false;
            }
            if (depth == 2)
                in_params = false;
            if (--depth < 0)
                return false;
        } else if (c == ',' && depth >= 1 && depth <= 2 && obj[depth])
            key_next[depth] = true;
    }
    return found && depth == 0;
}

const json_t *jrpc_id(const json_t *msg)
{
    const json_t *id = json_object_get(msg, "id");

    if (id && (json_is_string(id) || json_is_integer(id)))
        return id;
    return NULL;
}

enum jrpc_kind jrpc_classify(const json_t *msg, const char **why)
{
    const json_t *v, *id, *method;

    *why = NULL;
    if (!json_is_object(msg)) {
        *why = "a message must be a JSON object";
        return JRPC_KIND_INVALID;
    }
    v = json_object_get(msg, "jsonrpc");
    if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
        *why = "\"jsonrpc\" must be \"2.0\"";
        return JRPC_KIND_INVALID;
    }
    id = json_object_get(msg, "id");
    if (id && !json_is_string(id) && !json_is_integer(id)) {
        *why = "\"id\" must be a string or an integer";
        return JRPC_KIND_INVALID;
    }
    method = json_object_get(msg, "method");
    if (method) {
        const json_t *params = json_object_get(msg, "params");
        if (!json_is_string(method) || json_string_length(method) == 0) {
            *why = "\"method\" must be a non-empty string";
            return JRPC_KIND_INVALID;
        }
        if (params && !json_is_object(params) && !json_is_array(params)) {
            *why = "\"params\" must be an object";
            return JRPC_KIND_INVALID;
        }
        return id ? JRPC_KIND_REQUEST : JRPC_KIND_NOTIFICATION;
    }
    if (id && (json_object_get(msg, "result") || json_is_object(json_object_get(msg, "error"))))
        return JRPC_KIND_RESPONSE;
    *why = "a request needs a \"method\"";
    return JRPC_KIND_INVALID;
}

json_t *jrpc_result(const json_t *id, json_t *result)
{
    return json_pack("{s:s, s:O?, s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "result",
                     result ? result : json_object());
}

json_t *jrpc_error(const json_t *id, int code, const char *message, json_t *data)
{
    json_t *e = json_pack("{s:i, s:s}", "code", code, "message", message);

    if (data)
        json_object_set_new(e, "data", data);
    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "error", e);
}
