/*
 * The Alertmanager prompt template (svc/svc_alerts.h): placeholders, the name's fallbacks, the
 * cut at 50 alert lines and what a malformed template or payload renders to. Pure; no database.
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "svc/svc_alerts.h"
#include "testsuite.h"

static json_t *alerts_payload(size_t nalerts)
{
    json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:{s:s}, s:{s:s, s:s}, s:{s:s}}", "status",
                          "firing", "groupKey", "{}:{alertname=\"HighLatency\"}", "receiver",
                          "drover", "externalURL", "http://am.example:9093", "groupLabels",
                          "alertname", "HighLatency", "commonLabels", "alertname", "HighLatency",
                          "service", "checkout", "commonAnnotations", "summary", "p99 over 2 s");
    json_t *list = json_array();

    for (size_t i = 0; i < nalerts; i++)
        json_array_append_new(list, json_pack("{s:s, s:{s:s, s:s}, s:{s:s}, s:s}", "status",
                                              "firing", "labels", "alertname", "HighLatency", "pod",
                                              "checkout-1", "annotations", "summary", "slow",
                                              "startsAt", "2026-12-01T10:00:00Z"));
    json_object_set_new(p, "alerts", list);
    return p;
}

START_TEST(test_render_placeholders)
{
    json_t *p = alerts_payload(1);
    char *s = svc_alerts_render("{{alertname}} {{ status }} {{groupKey}} {{receiver}} "
                                "{{externalURL}} {{commonLabels.service}} "
                                "{{commonAnnotations.summary}} {{groupLabels.alertname}}",
                                p);

    ck_assert_str_eq(s, "HighLatency firing {}:{alertname=\"HighLatency\"} drover "
                        "http://am.example:9093 checkout p99 over 2 s HighLatency");
    free(s);
    json_decref(p);
}
END_TEST

START_TEST(test_render_alert_lines)
{
    json_t *p = alerts_payload(1);
    char *s = svc_alerts_render("{{alerts}}", p);

    ck_assert_str_eq(s, "- [firing] HighLatency: slow {alertname=\"HighLatency\", "
                        "pod=\"checkout-1\"} since 2026-12-01T10:00:00Z\n");
    free(s);
    json_decref(p);
}
END_TEST

/* A storm of alerts gives 50 lines and a count, not a prompt of unbounded size. */
START_TEST(test_render_cuts_at_50)
{
    json_t *p = alerts_payload(80);
    char *s = svc_alerts_render("{{alerts}}", p);
    size_t lines = 0;

    for (const char *c = s; *c; c++)
        lines += *c == '\n';
    ck_assert_uint_eq(lines, 51);
    ck_assert_ptr_nonnull(strstr(s, "- ... and 30 more\n"));
    free(s);
    json_decref(p);
}
END_TEST

/*
 * Only the documented top-level fields render: a payload field such as "truncatedAlerts" or a
 * made-up name renders empty, as does an unknown label; an unterminated "{{" stays as text.
 */
START_TEST(test_render_unknown_and_malformed)
{
    json_t *p = alerts_payload(1);
    char *s;

    json_object_set_new(p, "secret", json_string("do-not-render"));
    s = svc_alerts_render("a{{secret}}b{{commonLabels.nope}}c{{version}}d {{unterminated", p);
    ck_assert_str_eq(s, "abcd {{unterminated");
    free(s);
    s = svc_alerts_render("", p);
    ck_assert_str_eq(s, "");
    free(s);
    json_decref(p);
}
END_TEST

START_TEST(test_render_empty_payload)
{
    json_t *p = json_object();
    char *s = svc_alerts_render(SVC_ALERTS_DEFAULT_TEMPLATE, p);

    ck_assert_ptr_nonnull(strstr(s, "Alertmanager reports an alert () for"));
    ck_assert_ptr_nonnull(strstr(s, "Alerts:\n\n"));
    free(s);
    json_decref(p);
}
END_TEST

START_TEST(test_name_fallbacks)
{
    json_t *p = alerts_payload(1);

    ck_assert_str_eq(svc_alerts_name(p), "HighLatency");
    json_object_del(p, "commonLabels");
    json_object_set_new(p, "groupLabels", json_pack("{s:s}", "alertname", "FromGroup"));
    ck_assert_str_eq(svc_alerts_name(p), "FromGroup");
    json_object_del(p, "groupLabels");
    ck_assert_str_eq(svc_alerts_name(p), "HighLatency"); /* the first alert's label */
    json_object_del(p, "alerts");
    ck_assert_str_eq(svc_alerts_name(p), "an alert");
    json_decref(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("svc_alerts");
    TCase *tc = tcase_create("render");

    tcase_add_test(tc, test_render_placeholders);
    tcase_add_test(tc, test_render_alert_lines);
    tcase_add_test(tc, test_render_cuts_at_50);
    tcase_add_test(tc, test_render_unknown_and_malformed);
    tcase_add_test(tc, test_render_empty_payload);
    tcase_add_test(tc, test_name_fallbacks);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
