/* The checks a coding command ran (see runner_checks.h). */
#include "runner_checks.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

/*
 * Words that make a shell command a check: test runners, linters, type checkers, builds. A
 * word matches whole (after a leading path: ./node_modules/.bin/eslint is eslint), so "cat
 * test.txt" is not one but "make test" and "npm run lint" are.
 */
static const char *const runner_checks_words[] = {
    "test",     "tests",     "check",         "lint",       "build", "pytest",
    "ctest",    "tox",       "vitest",        "jest",       "mocha", "eslint",
    "ruff",     "flake8",    "mypy",          "pylint",     "tsc",   "clippy",
    "vet",      "verify",    "golangci-lint", "shellcheck", "rspec", "phpunit",
    "unittest", "typecheck", "test:unit",     "fmt",        NULL};

static bool runner_checks_word(const char *w, size_t n)
{
    for (size_t k = n; k > 0; k--) /* the command's name without its directory */
        if (w[k - 1] == '/') {
            w += k;
            n -= k;
            break;
        }
    for (size_t i = 0; runner_checks_words[i]; i++)
        if (strlen(runner_checks_words[i]) == n && memcmp(w, runner_checks_words[i], n) == 0)
            return true;
    return false;
}

static bool runner_checks_is_check(const char *cmd)
{
    const char *p = cmd;

    while (*p) {
        size_t n;

        while (*p && (isspace((unsigned char)*p) || strchr(";&|()", *p)))
            p++;
        n = strcspn(p, " \t\n;&|()");
        if (n && runner_checks_word(p, n))
            return true;
        p += n;
    }
    return false;
}

void runner_checks_init(struct runner_checks *c)
{
    c->list = json_array();
    c->more = 0;
}

void runner_checks_clear(struct runner_checks *c)
{
    json_decref(c->list);
    c->list = NULL;
    c->more = 0;
}

void runner_checks_note(struct runner_checks *c, const json_t *entries)
{
    const json_t *e;
    size_t i;

    json_array_foreach(entries, i, e)
    {
        const json_t *m = json_object_get(e, "metadata");
        const char *kind = json_string_value(json_object_get(m, "kind"));
        const char *use = json_string_value(json_object_get(m, "tool_use_id"));
        const char *tool = json_string_value(json_object_get(m, "tool"));
        const char *cmd = json_string_value(json_object_get(m, "input"));
        const json_t *x;
        size_t k;

        if (!kind || !use)
            continue;
        if (strcmp(kind, "tool_use") == 0 && tool && strcmp(tool, "Bash") == 0 && cmd &&
            runner_checks_is_check(cmd)) {
            if (json_array_size(c->list) >= RUNNER_CHECKS_MAX)
                c->more++;
            else
                json_array_append_new(c->list, json_pack("{s:s, s:s, s:n}", "command", cmd,
                                                         "tool_use_id", use, "ok"));
        } else if (strcmp(kind, "tool_result") == 0) {
            json_array_foreach(c->list, k, x)
            {
                if (strcmp(json_string_value(json_object_get(x, "tool_use_id")), use) == 0)
                    json_object_set_new(
                        (json_t *)x, "ok",
                        json_boolean(!json_is_true(json_object_get(m, "is_error"))));
            }
        }
    }
}

void runner_checks_markdown(const struct runner_checks *c, struct buf *b)
{
    const json_t *x;
    size_t i;

    if (!c->list || json_array_size(c->list) == 0) {
        buf_appendf(b, "Checks run: none (the coding command ran no test, lint or build "
                       "command that Drover saw).\n");
        return;
    }
    buf_appendf(b, "Checks run (%zu):\n", json_array_size(c->list) + (size_t)c->more);
    json_array_foreach(c->list, i, x)
    {
        const json_t *ok = json_object_get(x, "ok");
        const char *cmd = json_string_value(json_object_get(x, "command"));

        /* One line each: a newline in the command would end the list item. */
        buf_appendf(b, "- `%.*s`%s — %s\n", (int)strcspn(cmd, "\n`"), cmd,
                    cmd[strcspn(cmd, "\n`")] ? "…" : "",
                    json_is_true(ok)    ? "passed"
                    : json_is_false(ok) ? "failed"
                                        : "no result");
    }
    if (c->more)
        buf_appendf(b, "- and %d more\n", c->more);
}
