/* kubeconfig and in-cluster configuration; YAML via libyaml. Pool thread only. */
#include "pool/kubeconfig.h"
#include "core/mem.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define KUBECONFIG_FILE_MAX (16u << 20)
#define KUBECONFIG_DEPTH_MAX 64

char *kubeconfig_read_file(const char *path, size_t *len, struct err *err)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t n = 0, cap = 0, got;

    if (!f) {
        err_set(err, ERR_NOT_FOUND, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    do {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            if (cap > KUBECONFIG_FILE_MAX + 8192) {
                fclose(f);
                free(data);
                err_set(err, ERR_TOO_LARGE, "%s is larger than 16 MiB", path);
                return NULL;
            }
            data = mem_realloc(data, cap);
        }
        got = fread(data + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0);
    fclose(f);
    data[n] = '\0';
    if (len)
        *len = n;
    return data;
}

/* A plain scalar's JSON value (YAML 1.2 core schema). */
static json_t *kubeconfig_scalar(const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    char *end;

    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return json_stringn(v, n);
    if (n == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0)
        return json_null();
    if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0)
        return json_true();
    if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0)
        return json_false();
    if ((v[0] >= '0' && v[0] <= '9') || ((v[0] == '-' || v[0] == '+') && n > 1)) {
        long long i;
        double d;

        errno = 0;
        i = strtoll(v, &end, 10);
        if (*end == '\0' && errno == 0)
            return json_integer(i);
        d = strtod(v, &end);
        if (*end == '\0' && strspn(v, "+-0123456789.eE") == n)
            return json_real(d);
    }
    return json_stringn(v, n);
}

/* Build the node starting at the event just read; consumes through its end. */
static json_t *kubeconfig_node(yaml_parser_t *p, yaml_event_t *ev, int depth, struct err *err)
{
    json_t *node = NULL;

    if (depth > KUBECONFIG_DEPTH_MAX) {
        err_set(err, ERR_INVALID, "YAML nested too deeply");
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return kubeconfig_scalar(ev);
    case YAML_ALIAS_EVENT:
        err_set(err, ERR_INVALID, "YAML aliases are not supported");
        return NULL;
    case YAML_SEQUENCE_START_EVENT:
        node = json_array();
        for (;;) {
            yaml_event_t e;
            json_t *child;

            if (!yaml_parser_parse(p, &e))
                goto bad;
            if (e.type == YAML_SEQUENCE_END_EVENT) {
                yaml_event_delete(&e);
                return node;
            }
            child = kubeconfig_node(p, &e, depth + 1, err);
            yaml_event_delete(&e);
            if (!child)
                goto fail;
            json_array_append_new(node, child);
        }
    case YAML_MAPPING_START_EVENT:
        node = json_object();
        for (;;) {
            yaml_event_t k, v;
            json_t *child;
            char *key;

            if (!yaml_parser_parse(p, &k))
                goto bad;
            if (k.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&k);
                return node;
            }
            if (k.type != YAML_SCALAR_EVENT) {
                yaml_event_delete(&k);
                err_set(err, ERR_INVALID, "YAML mapping keys must be scalars");
                goto fail;
            }
            key = mem_strndup((const char *)k.data.scalar.value, k.data.scalar.length);
            yaml_event_delete(&k);
            if (!yaml_parser_parse(p, &v)) {
                free(key);
                goto bad;
            }
            child = kubeconfig_node(p, &v, depth + 1, err);
            yaml_event_delete(&v);
            if (!child) {
                free(key);
                goto fail;
            }
            json_object_set_new(node, key, child);
            free(key);
        }
    default:
        err_set(err, ERR_INVALID, "unexpected YAML event");
        return NULL;
    }
bad:
    err_set(err, ERR_INVALID, "YAML: %s at line %zu", p->problem ? p->problem : "syntax error",
            p->problem_mark.line + 1);
fail:
    json_decref(node);
    return NULL;
}

int kubeconfig_yaml_parse(const char *text, size_t len, json_t **out, struct err *err)
{
    yaml_parser_t p;
    yaml_event_t ev;
    json_t *doc = NULL;
    int rc = -1;

    *out = NULL;
    if (!yaml_parser_initialize(&p))
        return err_set(err, ERR_INTERNAL, "libyaml init failed");
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    for (;;) {
        if (!yaml_parser_parse(&p, &ev)) {
            err_set(err, ERR_INVALID, "YAML: %s at line %zu",
                    p.problem ? p.problem : "syntax error", p.problem_mark.line + 1);
            goto out;
        }
        if (ev.type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (ev.type == YAML_SCALAR_EVENT || ev.type == YAML_SEQUENCE_START_EVENT ||
            ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_ALIAS_EVENT) {
            doc = kubeconfig_node(&p, &ev, 0, err);
            yaml_event_delete(&ev);
            if (!doc)
                goto out;
            break; /* the first document only */
        }
        yaml_event_delete(&ev);
    }
    if (!doc) {
        err_set(err, ERR_INVALID, "empty YAML document");
        goto out;
    }
    *out = doc;
    rc = 0;
out:
    yaml_parser_delete(&p);
    return rc;
}

/* base64 "*-data" fields to PEM text. */
static char *kubeconfig_b64(const char *in, struct err *err)
{
    size_t n = strlen(in), o = 0;
    unsigned char *out = mem_alloc(n / 4 * 3 + 4);
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    int len = 0;

    EVP_DecodeInit(ctx);
    if (EVP_DecodeUpdate(ctx, out, &len, (const unsigned char *)in, (int)n) < 0) {
        EVP_ENCODE_CTX_free(ctx);
        free(out);
        err_set(err, ERR_INVALID, "bad base64 in kubeconfig");
        return NULL;
    }
    o = (size_t)len;
    EVP_DecodeFinal(ctx, out + o, &len);
    o += (size_t)len;
    EVP_ENCODE_CTX_free(ctx);
    out[o] = '\0';
    return (char *)out;
}

/* A path relative to the kubeconfig's directory. */
static char *kubeconfig_path(const char *base, const char *p)
{
    const char *slash = strrchr(base, '/');

    if (p[0] == '/' || !slash)
        return mem_strdup(p);
    return mem_printf("%.*s/%s", (int)(slash - base), base, p);
}

/* `data` field (base64) or `file` field (path) into PEM text; NULL and 0 when neither. */
static int kubeconfig_pem(const char *base, const json_t *o, const char *data_key,
                          const char *file_key, char **out, struct err *err)
{
    const char *d = json_string_value(json_object_get(o, data_key));
    const char *f = json_string_value(json_object_get(o, file_key));

    *out = NULL;
    if (d) {
        *out = kubeconfig_b64(d, err);
        return *out ? 0 : -1;
    }
    if (f) {
        char *path = kubeconfig_path(base, f);

        *out = kubeconfig_read_file(path, NULL, err);
        free(path);
        return *out ? 0 : -1;
    }
    return 0;
}

/* Find the entry named `name` in a kubeconfig list ("clusters", "users", "contexts"). */
static const json_t *kubeconfig_named(const json_t *doc, const char *list, const char *name,
                                      const char *inner)
{
    size_t i;
    const json_t *e;

    json_array_foreach(json_object_get(doc, list), i, e)
    {
        const char *n = json_string_value(json_object_get(e, "name"));

        if (n && name && strcmp(n, name) == 0)
            return json_object_get(e, inner);
    }
    return NULL;
}

int kubeconfig_load(const char *path, struct kubeconfig *kc, struct err *err)
{
    size_t len;
    char *text = kubeconfig_read_file(path, &len, err);
    json_t *doc = NULL;
    const json_t *ctx, *cluster, *user;
    const char *cur, *s;
    int rc = -1;

    memset(kc, 0, sizeof(*kc));
    if (!text)
        return -1;
    if (kubeconfig_yaml_parse(text, len, &doc, err) < 0)
        goto out;
    cur = json_string_value(json_object_get(doc, "current-context"));
    ctx = kubeconfig_named(doc, "contexts", cur, "context");
    if (!ctx) {
        err_set(err, ERR_INVALID, "%s: current-context '%s' not found", path, cur ? cur : "");
        goto out;
    }
    cluster = kubeconfig_named(doc, "clusters", json_string_value(json_object_get(ctx, "cluster")),
                               "cluster");
    user = kubeconfig_named(doc, "users", json_string_value(json_object_get(ctx, "user")), "user");
    if (!cluster || !(s = json_string_value(json_object_get(cluster, "server")))) {
        err_set(err, ERR_INVALID, "%s: the context's cluster has no server", path);
        goto out;
    }
    kc->server = mem_strdup(s);
    if (kc->server[0] && kc->server[strlen(kc->server) - 1] == '/')
        kc->server[strlen(kc->server) - 1] = '\0';
    kc->insecure = json_is_true(json_object_get(cluster, "insecure-skip-tls-verify"));
    if (kubeconfig_pem(path, cluster, "certificate-authority-data", "certificate-authority",
                       &kc->ca_pem, err) < 0)
        goto out;
    if ((s = json_string_value(json_object_get(ctx, "namespace"))))
        kc->namespace = mem_strdup(s);
    if (user) {
        if (json_object_get(user, "exec") || json_object_get(user, "auth-provider")) {
            err_set(err, ERR_INVALID,
                    "%s: exec/auth-provider credentials are not supported; use a token, a "
                    "tokenFile or a client certificate",
                    path);
            goto out;
        }
        if ((s = json_string_value(json_object_get(user, "token"))))
            kc->token = mem_strdup(s);
        if ((s = json_string_value(json_object_get(user, "tokenFile"))))
            kc->token_file = kubeconfig_path(path, s);
        if (kubeconfig_pem(path, user, "client-certificate-data", "client-certificate",
                           &kc->cert_pem, err) < 0 ||
            kubeconfig_pem(path, user, "client-key-data", "client-key", &kc->key_pem, err) < 0)
            goto out;
    }
    rc = 0;
out:
    if (rc < 0)
        kubeconfig_free(kc);
    json_decref(doc);
    free(text);
    return rc;
}

int kubeconfig_in_cluster(const char *sa_dir, struct kubeconfig *kc, struct err *err)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    const char *dir = sa_dir ? sa_dir : "/var/run/secrets/kubernetes.io/serviceaccount";
    char *path, *ns;

    memset(kc, 0, sizeof(*kc));
    if (!host || !*host)
        return err_set(err, ERR_NOT_FOUND, "not running in a cluster (KUBERNETES_SERVICE_HOST)");
    /* IPv6 hosts are bracketed in URLs. */
    kc->server = mem_printf(strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
                            port && *port ? port : "443");
    kc->token_file = mem_printf("%s/token", dir);
    path = mem_printf("%s/ca.crt", dir);
    kc->ca_pem = kubeconfig_read_file(path, NULL, err);
    free(path);
    if (!kc->ca_pem) {
        kubeconfig_free(kc);
        return -1;
    }
    path = mem_printf("%s/namespace", dir);
    ns = kubeconfig_read_file(path, NULL, NULL);
    free(path);
    if (ns) {
        ns[strcspn(ns, "\r\n")] = '\0';
        kc->namespace = ns;
    }
    return 0;
}

void kubeconfig_free(struct kubeconfig *kc)
{
    free(kc->server);
    free(kc->ca_pem);
    free(kc->cert_pem);
    free(kc->key_pem);
    if (kc->token)
        memset(kc->token, 0, strlen(kc->token));
    free(kc->token);
    free(kc->token_file);
    free(kc->namespace);
    memset(kc, 0, sizeof(*kc));
}
