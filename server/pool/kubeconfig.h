/*
 * Kubernetes client configuration: a kubeconfig file (current-context, server, CA / client
 * certificate and key as data or files, bearer token or tokenFile) parsed with libyaml, or the
 * in-cluster service account (KUBERNETES_SERVICE_HOST/PORT, token, ca.crt, namespace).
 * Also a YAML-to-JSON reader for the agent pod template. Pool thread only.
 */
#ifndef DROVER_POOL_KUBECONFIG_H
#define DROVER_POOL_KUBECONFIG_H

#include <jansson.h>
#include <stdbool.h>

#include "core/err.h"

struct kubeconfig {
    char *server;     /* https://host:port (no trailing slash) */
    char *ca_pem;     /* CA bundle contents (PEM), or NULL for the system store */
    char *cert_pem;   /* client certificate (PEM) or NULL */
    char *key_pem;    /* client key (PEM) or NULL */
    char *token;      /* a static bearer token, or NULL */
    char *token_file; /* re-read when it rotates (in-cluster, tokenFile), or NULL */
    char *namespace;  /* the context's / service account's namespace, or NULL */
    bool insecure;    /* insecure-skip-tls-verify */
};

/* Load `path` (a kubeconfig file). Unsupported auth (exec plugins) is ERR_INVALID. */
int kubeconfig_load(const char *path, struct kubeconfig *kc, struct err *err);

/* The in-cluster configuration from the environment and `sa_dir` (NULL: the standard mount). */
int kubeconfig_in_cluster(const char *sa_dir, struct kubeconfig *kc, struct err *err);

void kubeconfig_free(struct kubeconfig *kc);

/* Parse one YAML document into JSON (plain scalars: int, float, bool, null by YAML 1.2 core
 * rules; quoted scalars stay strings). *out is owned by the caller. */
int kubeconfig_yaml_parse(const char *text, size_t len, json_t **out, struct err *err);

/* Read a whole file (up to 16 MiB) into a NUL-terminated heap string. */
char *kubeconfig_read_file(const char *path, size_t *len, struct err *err);

#endif
