/* Secrets from $NAME_FILE or $NAME (see secret.h). Any thread. */
#include "core/secret.h"
#include "core/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int secret_get(const char *name, char **out, struct err *err)
{
    char var[200], buf[SECRET_FILE_MAX + 2];
    const char *path, *v;
    FILE *f = NULL;
    size_t n;
    int rc = -1;

    *out = NULL;
    snprintf(var, sizeof(var), "%s_FILE", name);
    path = getenv(var);
    if (!path || !*path) {
        v = getenv(name);
        if (v && *v)
            *out = mem_strdup(v);
        return 0;
    }
    f = fopen(path, "re");
    if (!f && errno == ENOENT)
        return 0; /* an optional Secret that was not created: as if unset */
    if (!f)
        return err_set(err, ERR_UNAVAILABLE, "%s: cannot read %s: %s", var, path, strerror(errno));
    n = fread(buf, 1, sizeof(buf) - 1, f);
    if (ferror(f)) {
        err_set(err, ERR_UNAVAILABLE, "%s: cannot read %s", var, path);
        goto out;
    }
    if (n > SECRET_FILE_MAX) {
        err_set(err, ERR_UNAVAILABLE, "%s: %s is longer than %d bytes: not a secret", var, path,
                SECRET_FILE_MAX);
        goto out;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (n == 0) {
        err_set(err, ERR_UNAVAILABLE, "%s: %s is empty", var, path);
        goto out;
    }
    buf[n] = '\0';
    *out = mem_strdup(buf);
    rc = 0;
out:
    memset(buf, 0, sizeof(buf));
    fclose(f);
    return rc;
}

void secret_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}
