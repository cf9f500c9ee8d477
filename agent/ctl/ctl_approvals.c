/* droverctl's approvals and autonomy policies; see ctl_approvals.h. Single-threaded. */
#include "ctl_approvals.h"
#include "ctl_args.h"
#include "ctl_out.h"
#include "ctl_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_approvals_list(struct ctl *ctl, int argc, char **argv)
{
    static const struct ctl_args_spec spec[] = {
        {"state", 0, true}, {"task", 0, true}, {"all", 0, false}, {NULL, 0, false}};
    static const char *const cols[] = {"ID",   "TASK",    "STATE",      "ACTION",
                                       "RULE", "EXPIRES", "DECIDED BY", NULL};
    struct ctl_args a;
    struct ctl_table t;
    json_t *out = NULL, *x;
    char path[256];
    const char *state;
    long long task = 0;
    size_t i;
    int rc = ctl_args_parse(ctl, argc, argv, spec, &a, 0, 0);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    state = ctl_args_opt(&a, "state");
    if (!state && !ctl_args_opt(&a, "all"))
        state = "pending"; /* what a person has to act on */
    if (ctl_args_opt(&a, "task") && ctl_args_id(ctl_args_opt(&a, "task"), "--task", &task) < 0)
        return CTL_USAGE;
    if (state && strspn(state, "abcdefghijklmnopqrstuvwxyz") != strlen(state)) {
        fprintf(stderr, "droverctl approvals: --state is pending, approved, denied or expired\n");
        return CTL_USAGE;
    }
    snprintf(path, sizeof(path), "/api/approvals?limit=500%s%s", state ? "&state=" : "",
             state ? state : "");
    if (task)
        snprintf(path + strlen(path), sizeof(path) - strlen(path), "&task_id=%lld", task);
    rc = ctl_out_call(ctl, "GET", path, NULL, NULL, &out);
    if (rc == CTL_OK && ctl->json) {
        ctl_out_json(out);
    } else if (rc == CTL_OK) {
        ctl_table_init(&t, cols);
        json_array_foreach(json_object_get(out, "approvals"), i, x)
        {
            char id[24], tid[24];
            const char *row[7];

            snprintf(id, sizeof(id), "%lld", ctl_out_int(x, "id"));
            snprintf(tid, sizeof(tid), "%lld", ctl_out_int(x, "task_id"));
            row[0] = id;
            row[1] = tid;
            row[2] = ctl_out_str(x, "state");
            row[3] = ctl_out_str(x, "action");
            row[4] = ctl_out_str(x, "rule");
            row[5] = ctl_out_str(x, "expires_at");
            row[6] = ctl_out_str(x, "decided_by");
            ctl_table_row(&t, row);
        }
        if (json_array_size(json_object_get(out, "approvals")) == 0)
            printf("no %s approvals\n", state ? state : "");
        else
            ctl_table_print(&t, stdout);
        ctl_table_free(&t);
    }
    json_decref(out);
    return rc;
}

/* approve|deny ID [--reason TEXT] */
static int ctl_approvals_answer(struct ctl *ctl, int argc, char **argv, const char *verb)
{
    static const struct ctl_args_spec spec[] = {{"reason", 0, true}, {NULL, 0, false}};
    struct ctl_args a;
    char path[96];
    long long id;
    json_t *body = NULL, *out = NULL;
    int rc = ctl_args_parse(ctl, argc, argv, spec, &a, 1, 1);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    if (ctl_args_id(a.pos[0], "approval id", &id) < 0)
        return CTL_USAGE;
    if (ctl_args_opt(&a, "reason"))
        body = json_pack("{s:s}", "reason", ctl_args_opt(&a, "reason"));
    snprintf(path, sizeof(path), "/api/approvals/%lld/%s", id, verb);
    rc = ctl_out_call(ctl, "POST", path, body, NULL, &out);
    if (rc == CTL_OK && ctl->json)
        ctl_out_json(out);
    else if (rc == CTL_OK)
        printf("approval %lld %s: %s (task %lld)\n", id, ctl_out_str(out, "state"),
               ctl_out_str(out, "action"), ctl_out_int(out, "task_id"));
    json_decref(body);
    json_decref(out);
    return rc;
}

int ctl_approvals_approve(struct ctl *ctl, int argc, char **argv)
{
    return ctl_approvals_answer(ctl, argc, argv, "approve");
}

int ctl_approvals_deny(struct ctl *ctl, int argc, char **argv)
{
    return ctl_approvals_answer(ctl, argc, argv, "deny");
}

/* The policy path of project `ref`, its name percent-encoded. */
static void ctl_approvals_path(const char *ref, const char *tail, char *path, size_t n)
{
    char *enc = ctl_out_urlencode(ref);

    snprintf(path, n, "/api/projects/%s/policy%s", enc, tail);
    free(enc);
}

static void ctl_approvals_print_policy(const json_t *v)
{
    const json_t *p = json_object_get(v, "policy");
    static const char *const lists[] = {"deny", "ask", "allow", NULL};

    printf("version %lld by %s at %s: %s, approvals time out after %llds\n",
           ctl_out_int(v, "version"), ctl_out_str(v, "created_by"), ctl_out_str(v, "created_at"),
           json_is_true(json_object_get(v, "enabled")) ? "enforced" : "off",
           ctl_out_int(v, "approval_timeout_seconds"));
    for (size_t i = 0; lists[i]; i++) {
        const json_t *r;
        size_t k;

        json_array_foreach(json_object_get(p, lists[i]), k, r)
            printf("  %-6s %s\n", lists[i], json_string_value(r));
    }
    printf("  unmatched: %s; outside the repository: %s; network: %s\n", ctl_out_str(p, "default"),
           ctl_out_str(p, "outside_repo"), ctl_out_str(p, "network"));
}

int ctl_approvals_policy_get(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_args a;
    char path[512];
    json_t *out = NULL;
    int rc = ctl_args_parse(ctl, argc, argv, NULL, &a, 1, 1);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    ctl_approvals_path(a.pos[0], "", path, sizeof(path));
    rc = ctl_out_call(ctl, "GET", path, NULL, NULL, &out);
    if (rc == CTL_OK && ctl->json)
        ctl_out_json(out);
    else if (rc == CTL_OK)
        ctl_approvals_print_policy(out);
    json_decref(out);
    return rc;
}

int ctl_approvals_policy_set(struct ctl *ctl, int argc, char **argv)
{
    struct ctl_args a;
    char path[512];
    json_t *body, *out = NULL;
    json_error_t je;
    int rc = ctl_args_parse(ctl, argc, argv, NULL, &a, 2, 2);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    body = strcmp(a.pos[1], "-") == 0 ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &je)
                                      : json_load_file(a.pos[1], JSON_REJECT_DUPLICATES, &je);
    if (!body) {
        fprintf(stderr, "droverctl policy set: %s: %s (line %d)\n", a.pos[1], je.text, je.line);
        return CTL_USAGE;
    }
    ctl_approvals_path(a.pos[0], "", path, sizeof(path));
    rc = ctl_out_call(ctl, "PUT", path, body, NULL, &out);
    if (rc == CTL_OK && ctl->json)
        ctl_out_json(out);
    else if (rc == CTL_OK)
        ctl_approvals_print_policy(out);
    json_decref(body);
    json_decref(out);
    return rc;
}

int ctl_approvals_policy_history(struct ctl *ctl, int argc, char **argv)
{
    static const char *const cols[] = {"VERSION", "ENFORCED", "BY", "AT", "RULES", NULL};
    struct ctl_args a;
    struct ctl_table t;
    char path[512];
    json_t *out = NULL, *v;
    size_t i;
    int rc = ctl_args_parse(ctl, argc, argv, NULL, &a, 1, 1);

    if (rc != 0)
        return ctl_args_exit(ctl, rc);
    ctl_approvals_path(a.pos[0], "/versions", path, sizeof(path));
    rc = ctl_out_call(ctl, "GET", path, NULL, NULL, &out);
    if (rc == CTL_OK && ctl->json) {
        ctl_out_json(out);
    } else if (rc == CTL_OK) {
        ctl_table_init(&t, cols);
        json_array_foreach(json_object_get(out, "versions"), i, v)
        {
            const json_t *p = json_object_get(v, "policy");
            char ver[24], rules[64];
            const char *row[5];

            snprintf(ver, sizeof(ver), "%lld", ctl_out_int(v, "version"));
            snprintf(rules, sizeof(rules), "%zu deny, %zu ask, %zu allow",
                     json_array_size(json_object_get(p, "deny")),
                     json_array_size(json_object_get(p, "ask")),
                     json_array_size(json_object_get(p, "allow")));
            row[0] = ver;
            row[1] = json_is_true(json_object_get(v, "enabled")) ? "yes" : "no";
            row[2] = ctl_out_str(v, "created_by");
            row[3] = ctl_out_str(v, "created_at");
            row[4] = rules;
            ctl_table_row(&t, row);
        }
        if (json_array_size(json_object_get(out, "versions")) == 0)
            printf("no policy: the project's agents run without one\n");
        else
            ctl_table_print(&t, stdout);
        ctl_table_free(&t);
    }
    json_decref(out);
    return rc;
}
