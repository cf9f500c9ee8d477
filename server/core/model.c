/* The model's rules (states, transitions, bounds, branch names). Pure; any thread. */
#include "core/model.h"
#include "core/text.h"

#include <stdio.h>
#include <string.h>

static const char *const model_states[MODEL_NSTATES] = {
    [MODEL_BACKLOG] = "backlog",
    [MODEL_IN_PROGRESS] = "in_progress",
    [MODEL_READY_TO_TEST] = "ready_to_test",
    [MODEL_NEEDS_INPUT] = "needs_input",
    [MODEL_COMPLETED] = "completed",
    [MODEL_FAILED] = "failed",
    [MODEL_CANCELLED] = "cancelled",
};

/* The lifecycle of docs/architecture.md: every move any path may make. */
static const struct {
    enum model_state from, to;
} model_transitions[] = {
    {MODEL_BACKLOG, MODEL_IN_PROGRESS},       /* claim */
    {MODEL_IN_PROGRESS, MODEL_READY_TO_TEST}, /* the agent's outcome ... */
    {MODEL_IN_PROGRESS, MODEL_NEEDS_INPUT},
    {MODEL_IN_PROGRESS, MODEL_COMPLETED},
    {MODEL_IN_PROGRESS, MODEL_FAILED},
    {MODEL_IN_PROGRESS, MODEL_BACKLOG},     /* retry, reap */
    {MODEL_NEEDS_INPUT, MODEL_BACKLOG},     /* answered */
    {MODEL_READY_TO_TEST, MODEL_COMPLETED}, /* accepted */
    {MODEL_READY_TO_TEST, MODEL_BACKLOG},   /* rework on the same branch */
    {MODEL_BACKLOG, MODEL_CANCELLED},
    {MODEL_IN_PROGRESS, MODEL_CANCELLED},
    {MODEL_NEEDS_INPUT, MODEL_CANCELLED},
    {MODEL_READY_TO_TEST, MODEL_CANCELLED},
    {MODEL_FAILED, MODEL_BACKLOG},
    {MODEL_CANCELLED, MODEL_BACKLOG}, /* retry */
};

const char *model_state_name(enum model_state s)
{
    return (unsigned)s < MODEL_NSTATES ? model_states[s] : "unknown";
}

int model_state_parse(const char *name, enum model_state *out)
{
    for (int i = 0; name && i < MODEL_NSTATES; i++) {
        if (strcmp(name, model_states[i]) == 0) {
            *out = (enum model_state)i;
            return 0;
        }
    }
    return -1;
}

bool model_state_valid(const char *name)
{
    enum model_state s;

    return model_state_parse(name, &s) == 0;
}

const char *model_state_list(void)
{
    return "backlog, in_progress, ready_to_test, needs_input, completed, failed, cancelled";
}

bool model_transition_allowed(const char *from, const char *to)
{
    enum model_state f, t;

    if (model_state_parse(from, &f) < 0 || model_state_parse(to, &t) < 0)
        return false;
    for (size_t i = 0; i < sizeof(model_transitions) / sizeof(model_transitions[0]); i++)
        if (model_transitions[i].from == f && model_transitions[i].to == t)
            return true;
    return false;
}

bool model_state_terminal(const char *name)
{
    enum model_state s;

    return model_state_parse(name, &s) == 0 &&
           (s == MODEL_COMPLETED || s == MODEL_FAILED || s == MODEL_CANCELLED);
}

bool model_branch_name_valid(const char *n)
{
    size_t len = n ? strlen(n) : 0;
    const char *comp;

    if (len == 0 || len > MODEL_BRANCH_MAX || n[0] == '/' || n[len - 1] == '/' ||
        n[len - 1] == '.' || n[0] == '-' || strcmp(n, "@") == 0 || strcmp(n, "HEAD") == 0 ||
        strstr(n, "..") || strstr(n, "//") || strstr(n, "@{") || strncmp(n, "refs/", 5) == 0)
        return false;
    for (const char *p = n; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f || strchr(" ~^:?*[\\", c))
            return false;
    }
    if (!text_utf8_valid(n, len))
        return false;
    /* Per component: no leading '.', no trailing ".lock". */
    for (comp = n; comp; comp = strchr(comp, '/') ? strchr(comp, '/') + 1 : NULL) {
        const char *end = strchr(comp, '/');
        size_t cl = end ? (size_t)(end - comp) : strlen(comp);
        if (comp[0] == '.' || (cl >= 5 && strncmp(comp + cl - 5, ".lock", 5) == 0))
            return false;
    }
    return true;
}

void model_branch_default(int64_t task_id, const char *title, char *out, size_t outsz)
{
    char slug[49];
    size_t l;

    text_slug(title ? title : "", slug, sizeof(slug));
    l = strlen(slug);
    while (l > 0 && slug[l - 1] == '-') /* cutting may leave a dash at the end */
        slug[--l] = '\0';
    if (l)
        snprintf(out, outsz, "drover/%lld-%s", (long long)task_id, slug);
    else
        snprintf(out, outsz, "drover/%lld", (long long)task_id);
}

static const char *const model_levels[] = {"debug", "info", "notice", "warning", "error"};

bool model_log_level_valid(const char *level)
{
    for (size_t i = 0; level && i < sizeof(model_levels) / sizeof(model_levels[0]); i++)
        if (strcmp(level, model_levels[i]) == 0)
            return true;
    return false;
}

const char *model_log_level_list(void)
{
    return "debug, info, notice, warning, error";
}

int model_usage_check(const json_t *usage, struct err *err)
{
    const char *k;
    json_t *v;

    if (!json_is_object(usage))
        return err_set(err, ERR_INVALID, "usage must be an object");
    if (json_object_size(usage) > MODEL_USAGE_KEYS_MAX)
        return err_set(err, ERR_TOO_LARGE, "usage holds more than %d keys", MODEL_USAGE_KEYS_MAX);
    json_object_foreach((json_t *)usage, k, v)
    {
        if (strlen(k) == 0 || strlen(k) > MODEL_USAGE_KEY_MAX)
            return err_set(err, ERR_INVALID, "usage keys are 1 to %d bytes", MODEL_USAGE_KEY_MAX);
        /* jansson refuses NaN and infinities when parsing, so a number here is finite. */
        if (!json_is_number(v) || json_number_value(v) < 0)
            return err_set(err, ERR_INVALID, "usage.%.64s must be a non-negative number", k);
    }
    return 0;
}

int model_idem_key_check(const char *key, struct err *err)
{
    if (!key || !*key)
        return 0;
    if (strchr(key, '#'))
        return err_set(err, ERR_INVALID,
                       "an idempotency key may not contain '#' (fan-out children use KEY#i)");
    if (strncmp(key, "schedule:", 9) == 0)
        return err_set(err, ERR_INVALID,
                       "an idempotency key may not start with 'schedule:' (scheduled runs use it)");
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return err_set(err, ERR_INVALID, "an idempotency key may not hold control characters");
    return 0;
}

bool model_text_has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
        if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f)
            return true;
    return false;
}
