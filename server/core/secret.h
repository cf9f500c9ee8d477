/*
 * Secrets from the environment or, better, from files: $NAME_FILE names a file (a mounted
 * Kubernetes Secret, a Docker secret) whose content is the secret, so the value is in no
 * process's environment and no `kubectl describe`; else $NAME itself. Any thread.
 */
#ifndef DROVER_CORE_SECRET_H
#define DROVER_CORE_SECRET_H

#include "core/err.h"

/* The longest secret read from a file; longer files are refused (a wrong path, not a key). */
#define SECRET_FILE_MAX 8192

/*
 * The secret `name`: the content of $name_FILE without its trailing newlines, else $name.
 * 0 with *out owned (NULL when neither is set, or $name_FILE names a file that does not exist:
 * an optional Secret that was not created); wipe it with secret_free. -1 with ERR_UNAVAILABLE
 * when the file exists but cannot be read, is empty or is over SECRET_FILE_MAX.
 */
int secret_get(const char *name, char **out, struct err *err);

/* Zero and free a secret secret_get returned (NULL is fine). */
void secret_free(char *s);

#endif
