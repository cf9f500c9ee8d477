/* droverctl's REST calls and printing helpers. Single-threaded. */
#include "ctl_out.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_out_call(struct ctl *ctl, const char *method, const char *path, const json_t *body,
                 const char *const *headers, json_t **out)
{
    struct httpc_resp r = {0};
    struct err err = {0};
    int rc = CTL_ERR;

    if (out)
        *out = NULL;
    if (httpc_request(&ctl->http, method, path, body, headers, 0, &r, &err) < 0) {
        fprintf(stderr, "droverctl: cannot reach %s: %s\n", ctl->http.base_url, err.msg);
        goto out;
    }
    if (r.status < 200 || r.status >= 300) {
        const char *msg = httpc_error_message(&r);
        const char *code =
            json_string_value(json_object_get(json_object_get(r.json, "error"), "code"));

        fprintf(stderr, "droverctl %s: %ld %s%s%s\n", ctl->prog_cmd, r.status,
                code ? code : "error", msg ? ": " : "", msg ? msg : (r.body ? r.body : ""));
        if (r.status == 401)
            fprintf(stderr, "  (set DROVER_TOKEN or --token to an operator or admin token)\n");
        goto out;
    }
    if (out) {
        *out = r.json;
        r.json = NULL;
    }
    rc = CTL_OK;
out:
    httpc_resp_clear(&r);
    return rc;
}

int ctl_out_delete(struct ctl *ctl, const char *path, const char *what, long long id)
{
    json_t *out = NULL;
    int rc = ctl_out_call(ctl, "DELETE", path, NULL, NULL, &out);

    if (rc == CTL_OK && ctl->json) {
        if (!out)
            out = json_pack("{s:I,s:b}", "id", (json_int_t)id, "deleted", 1);
        ctl_out_json(out);
    } else if (rc == CTL_OK) {
        printf("%s %lld deleted\n", what, id);
    }
    json_decref(out);
    return rc;
}

void ctl_out_json(const json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (s) {
        puts(s);
        free(s);
    }
}

const char *ctl_out_str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));

    return v ? v : "-";
}

long long ctl_out_int(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

void ctl_out_age(const json_t *v, char *out, size_t n)
{
    double s;

    if (!json_is_number(v)) {
        snprintf(out, n, "-");
        return;
    }
    s = json_number_value(v);
    if (s < 120)
        snprintf(out, n, "%.0fs", s);
    else if (s < 7200)
        snprintf(out, n, "%.0fm", s / 60);
    else
        snprintf(out, n, "%.1fh", s / 3600);
}

char *ctl_out_urlencode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = mem_alloc(strlen(s) * 3 + 1), *o = out;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~", c)) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}
