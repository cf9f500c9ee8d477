/*
 * The pull request Drover opens: the body keeps the agent's summary, never shows the prompt
 * outside its collapsed section, links the task and its transcript when a public URL is
 * known; the project's options (draft, labels, GitLab's remove-source-branch and squash).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "svc/svc_prbody.h"
#include "testsuite.h"

static json_t *task(void)
{
    return json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)12, "title", "Add a greeting",
                     "description", "Add a greeting to the README, politely please.", "branch",
                     "drover/12-add-a-greeting", "base_branch", "main");
}

START_TEST(summary_kept_prompt_collapsed_links_added)
{
    json_t *t = task();
    char *b =
        svc_prbody_compose(t, "Added a greeting line; README only.", "https://drover.example/");

    ck_assert_ptr_nonnull(strstr(b, "Added a greeting line; README only.\n"));
    ck_assert_ptr_nonnull(strstr(b, "**Drover task #12**: Add a greeting"));
    ck_assert_ptr_nonnull(strstr(b, "https://drover.example/#/tasks/12"));
    ck_assert_ptr_nonnull(strstr(b, "https://drover.example/api/tasks/12/logs"));
    ck_assert_ptr_nonnull(strstr(b, "Branch `drover/12-add-a-greeting` into `main`."));
    /* The prompt appears once, inside <details>. */
    ck_assert_ptr_nonnull(strstr(b, "<details><summary>The task as submitted</summary>"));
    ck_assert(strstr(b, "politely please") > strstr(b, "<details>"));
    free(b);
    /* The runner's fallback sends the prompt itself: it is not repeated as a summary. */
    b = svc_prbody_compose(t, "Add a greeting\n\nAdd a greeting to the README, politely please.\n",
                           NULL);
    ck_assert_ptr_eq(strstr(b, "politely please"),
                     strstr(b, "<details>") ? strstr(strstr(b, "<details>"), "politely please")
                                            : NULL);
    ck_assert_ptr_null(strstr(b, "#/tasks/"));
    ck_assert_int_eq(strncmp(b, "---\n", 4), 0);
    free(b);
    json_decref(t);
}
END_TEST

START_TEST(options_from_project_settings)
{
    json_t *s = json_pack("{s:b,s:[s,s],s:b,s:b}", "pr_draft", 1, "pr_labels", "drover", "bot",
                          "pr_remove_source_branch", 1, "pr_squash", 1);
    struct forge_pr_req r = {0};
    char *labels;

    svc_prbody_options(s, &r, &labels);
    ck_assert(r.draft && r.remove_source_branch && r.squash);
    ck_assert_str_eq(r.labels, "drover,bot");
    ck_assert_ptr_null(r.reviewer_ids);
    free(labels);
    json_decref(s);
    /* GitLab user ids: positive integers only. */
    s = json_pack("{s:[i,i],s:[s]}", "pr_reviewer_ids", 7, 9, "pr_assignee_ids", "dana");
    memset(&r, 0, sizeof(r));
    svc_prbody_options(s, &r, &labels);
    ck_assert_int_eq(json_array_size(r.reviewer_ids), 2);
    ck_assert_ptr_null(r.assignee_ids);
    free(labels);
    json_decref(s);
    s = json_pack("{s:s}", "pr_labels", "one");
    memset(&r, 0, sizeof(r));
    svc_prbody_options(s, &r, &labels);
    ck_assert(!r.draft && !r.squash);
    ck_assert_str_eq(r.labels, "one");
    free(labels);
    json_decref(s);
    memset(&r, 0, sizeof(r));
    svc_prbody_options(NULL, &r, &labels);
    ck_assert_ptr_null(r.labels);
}
END_TEST

START_TEST(people_from_settings_and_the_submitters_login)
{
    json_t *s = json_pack("{s:[s,s],s:s,s:{s:s}}", "pr_reviewers", "bob", "dana", "pr_assignees",
                          "carol", "forge_logins", "dev", "dana");
    struct forge_pr_req r = {0};
    json_t *own = NULL;

    /* The submitter's login joins both, once. */
    svc_prbody_people(s, "dev", NULL, &r, &own);
    ck_assert_int_eq(json_array_size(r.reviewers), 2);
    ck_assert_str_eq(json_string_value(json_array_get(r.assignees, 0)), "carol");
    ck_assert_str_eq(json_string_value(json_array_get(r.assignees, 1)), "dana");
    json_decref(own);
    /* An unmapped submitter adds nobody; nothing set is NULL. */
    memset(&r, 0, sizeof(r));
    svc_prbody_people(s, "someone", NULL, &r, &own);
    ck_assert_int_eq(json_array_size(r.assignees), 1);
    json_decref(own);
    memset(&r, 0, sizeof(r));
    svc_prbody_people(NULL, "dev", NULL, &r, &own);
    ck_assert_ptr_null(r.reviewers);
    ck_assert_ptr_null(r.assignees);
    json_decref(own);
    /* A login from the forge itself (a forge issue's author) joins both without a mapping. */
    memset(&r, 0, sizeof(r));
    svc_prbody_people(s, "someone", "erin", &r, &own);
    ck_assert_int_eq(json_array_size(r.reviewers), 3);
    ck_assert_str_eq(json_string_value(json_array_get(r.reviewers, 2)), "erin");
    ck_assert_str_eq(json_string_value(json_array_get(r.assignees, 1)), "erin");
    json_decref(own);
    json_decref(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("svc_prbody");
    TCase *tc = tcase_create("svc_prbody");
    int failed;

    tcase_add_test(tc, summary_kept_prompt_collapsed_links_added);
    tcase_add_test(tc, options_from_project_settings);
    tcase_add_test(tc, people_from_settings_and_the_submitters_login);
    suite_add_tcase(s, tc);
    failed = testsuite_run(s) != EXIT_SUCCESS;
    return failed ? 1 : 0;
}
