/*
 * The access log (core/accesslog.c): both line formats, quoting of what the client sent, the
 * query cut off the path, and a full ring dropping (and counting) instead of blocking.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/accesslog.h"
#include "testsuite.h"

static struct accesslog_rec rec(const char *method, const char *uri, int status, const char *who)
{
    struct accesslog_rec r = {0};

    snprintf(r.method, sizeof(r.method), "%s", method);
    accesslog_set_path(&r, uri);
    r.status = status;
    r.duration_us = 1500;
    r.bytes = 42;
    snprintf(r.who, sizeof(r.who), "%s", who);
    r.ts_ms = 1764684000123LL;
    return r;
}

START_TEST(logfmt_line)
{
    struct accesslog_rec r = rec("POST", "/api/tasks?token=drv_secret&x=1", 202, "ci-admin");
    char line[1024];

    accesslog_format_line(ACCESSLOG_LOGFMT, &r, line, sizeof(line));
    ck_assert_str_eq(line, "ts=2025-12-02T14:00:00.123Z lvl=info mod=access method=POST "
                           "path=/api/tasks status=202 duration_ms=1.500 bytes=42 who=ci-admin\n");
    ck_assert_ptr_null(strstr(line, "drv_secret"));
}
END_TEST

START_TEST(logfmt_quotes_what_the_client_chose)
{
    struct accesslog_rec r = rec("GET", "/a b\"c=\n", 404, "");
    char line[1024];

    accesslog_format_line(ACCESSLOG_LOGFMT, &r, line, sizeof(line));
    ck_assert_ptr_nonnull(strstr(line, "path=\"/a b\\\"c=\\u000a\" "));
    ck_assert_ptr_nonnull(strstr(line, " who=\"\"\n"));
    ck_assert_ptr_eq(strchr(line, '\n'), line + strlen(line) - 1); /* one line, whatever came */
}
END_TEST

START_TEST(json_line_parses)
{
    struct accesslog_rec r =
        rec("GET", "/x\"\\\x01y?q", 200, "3f0c5a9e-0000-4000-8000-000000000001");
    char line[1024];
    json_error_t je;
    json_t *j;

    accesslog_format_line(ACCESSLOG_JSON, &r, line, sizeof(line));
    j = json_loads(line, 0, &je);
    ck_assert_msg(j != NULL, "%s: %s", line, je.text);
    ck_assert_str_eq(json_string_value(json_object_get(j, "path")), "/x\"\\\x01y");
    ck_assert_str_eq(json_string_value(json_object_get(j, "mod")), "access");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "bytes")), 42);
    ck_assert(json_real_value(json_object_get(j, "duration_ms")) == 1.5);
    ck_assert_str_eq(json_string_value(json_object_get(j, "who")),
                     "3f0c5a9e-0000-4000-8000-000000000001");
    json_decref(j);
}
END_TEST

START_TEST(long_path_is_cut)
{
    char uri[600];
    struct accesslog_rec r;

    memset(uri, 'a', sizeof(uri) - 1);
    uri[0] = '/';
    uri[sizeof(uri) - 1] = '\0';
    r = rec("GET", uri, 414, "");
    ck_assert_uint_eq(strlen(r.path), sizeof(r.path) - 1);
}
END_TEST

START_TEST(writer_writes_every_line_or_counts_the_drop)
{
    char *buf = NULL;
    size_t len = 0, lines = 0;
    FILE *f = open_memstream(&buf, &len);
    struct err err = {0};
    struct accesslog *log = accesslog_start(ACCESSLOG_LOGFMT, f, &err);
    struct accesslog_rec r = rec("GET", "/health", 200, "");
    unsigned long long dropped = 0;
    const int n = ACCESSLOG_RING * 3;

    ck_assert_ptr_nonnull(log);
    for (int i = 0; i < n; i++)
        accesslog_add(log, &r); /* never blocks, however far behind the writer is */
    accesslog_stop(log);
    fclose(f);
    for (char *p = buf; (p = strchr(p, '\n')); p++)
        lines++;
    for (char *p = buf; (p = strstr(p, "msg=\"")); p++)
        dropped += strtoull(p + 5, NULL, 10);
    /* Every record is a line of its own or counted in a drop line. */
    {
        size_t access = 0;
        for (char *p = buf; (p = strstr(p, "path=/health")); p++)
            access++;
        ck_assert_uint_eq(access + dropped, (size_t)n);
        ck_assert_uint_ge(lines, access);
    }
    free(buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("accesslog");
    TCase *tc = tcase_create("accesslog");

    tcase_add_test(tc, logfmt_line);
    tcase_add_test(tc, logfmt_quotes_what_the_client_chose);
    tcase_add_test(tc, json_line_parses);
    tcase_add_test(tc, long_path_is_cut);
    tcase_add_test(tc, writer_writes_every_line_or_counts_the_drop);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
