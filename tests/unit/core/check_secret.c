/* core/secret.c: a secret from $NAME_FILE (a mounted Secret) or $NAME. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/secret.h"
#include "testsuite.h"

static char dir[64];

static void put(const char *name, const char *text)
{
    char p[128];
    FILE *f;

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void file_var(const char *name)
{
    char p[128];

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    setenv("DROVER_T_SECRET_FILE", p, 1);
}

START_TEST(env_then_file)
{
    struct err err = {0};
    char *s = NULL;

    unsetenv("DROVER_T_SECRET");
    unsetenv("DROVER_T_SECRET_FILE");
    ck_assert_int_eq(secret_get("DROVER_T_SECRET", &s, &err), 0);
    ck_assert_ptr_null(s);
    setenv("DROVER_T_SECRET", "from-env", 1);
    ck_assert_int_eq(secret_get("DROVER_T_SECRET", &s, &err), 0);
    ck_assert_str_eq(s, "from-env");
    secret_free(s);
    /* The file wins, without the newline editors and `kubectl create secret` leave. */
    put("s1", "from-file\n\n");
    file_var("s1");
    ck_assert_int_eq(secret_get("DROVER_T_SECRET", &s, &err), 0);
    ck_assert_str_eq(s, "from-file");
    secret_free(s);
    /* An optional Secret that was not created: as if the variable were unset. */
    file_var("absent");
    ck_assert_int_eq(secret_get("DROVER_T_SECRET", &s, &err), 0);
    ck_assert_ptr_null(s);
    unsetenv("DROVER_T_SECRET");
    unsetenv("DROVER_T_SECRET_FILE");
}
END_TEST

START_TEST(bad_files_are_errors)
{
    struct err err = {0};
    char *s = NULL, big[SECRET_FILE_MAX + 10];

    put("empty", "\n");
    file_var("empty");
    ck_assert_int_eq(secret_get("DROVER_T_SECRET", &s, &err), -1);
    ck_assert_int_eq(err.code, ERR_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(err.msg, "empty"));
    ck_assert_ptr_null(s);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    put("big", big);
    file_var("big");
    ck_assert_int_eq(secret_get("DROVER_T_SECRET", &s, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "longer"));
    setenv("DROVER_T_SECRET_FILE", dir, 1); /* a directory: readable as nothing */
    ck_assert_int_eq(secret_get("DROVER_T_SECRET", &s, &err), -1);
    ck_assert_ptr_null(s);
    unsetenv("DROVER_T_SECRET_FILE");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("secret");
    TCase *tc = tcase_create("secret");
    int failed;
    char cmd[128];

    snprintf(dir, sizeof(dir), "/tmp/drover-check-secret-%d", (int)getpid());
    mkdir(dir, 0700);
    tcase_add_test(tc, env_then_file);
    tcase_add_test(tc, bad_files_are_errors);
    suite_add_tcase(s, tc);
    failed = testsuite_run(s) != EXIT_SUCCESS;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return failed ? 1 : 0;
}
