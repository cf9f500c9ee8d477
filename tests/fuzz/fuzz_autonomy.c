/*
 * libFuzzer target: the tiered-autonomy policy check and matcher (server/core/autonomy.c).
 * The input is three NUL-separated parts: a policy (JSON), a tool name, and the tool's input
 * (a JSON object, or else a string used as every field a tool reads). A policy that does not
 * parse or pass the check is replaced by a fixed one, so the matcher always runs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/autonomy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fallback[] =
    "{\"allow\": [\"Edit\", \"Read\", \"Bash(npm test:*)\", \"Bash(git log *)\", \"mcp__gh\","
    " \"WebFetch(domain:example.com)\", \"Edit(//tmp/**)\", \"WebSearch(q)\"],"
    " \"ask\": [\"Bash(kubectl apply:*)\", \"Edit(.github/workflows/**)\", \"mcp__s__*\"],"
    " \"deny\": [\"Bash(git push --force:*)\", \"Edit(*.env)\", \"Edit(//etc/**)\","
    " \"Read(/a/**/b?c)\", \"Bash(rm -rf *)\", \"Edit(~/x)\", \"Edit(build/)\"]}";

/* The next NUL-terminated part of the input, copied; advances *p. */
static char *part(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nul = memchr(*p, '\0', (size_t)(end - *p));
    size_t n = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
    char *s = malloc(n + 1);

    memcpy(s, *p, n);
    s[n] = '\0';
    *p = nul ? nul + 1 : end;
    return s;
}

static void check_decision(const struct autonomy_decision *d)
{
    if (d->action != AUTONOMY_ALLOW && d->action != AUTONOMY_ASK && d->action != AUTONOMY_DENY)
        __builtin_trap();
    if (!d->rule[0] || strlen(d->rule) >= sizeof(d->rule) ||
        strlen(d->action_text) >= sizeof(d->action_text))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char *ptext = part(&p, end), *tool = part(&p, end), *arg = part(&p, end);
    json_t *policy = json_loads(ptext, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    json_t *norm = NULL, *again = NULL, *input, *bare;
    struct err err = {0};
    struct autonomy_decision d;

    if (autonomy_policy_check(policy, &norm, &err) == 0) {
        /* The normalized form passes again and normalizes to itself. */
        if (autonomy_policy_check(norm, &again, NULL) != 0 || !json_equal(norm, again))
            __builtin_trap();
        json_decref(again);
    } else {
        if (!err.msg[0] || err.code != ERR_INVALID || norm)
            __builtin_trap(); /* a refusal always says why */
        norm = json_loads(fallback, 0, NULL);
    }
    input = json_loads(arg, 0, NULL);
    if (!json_is_object(input)) {
        json_t *s = json_stringn_nocheck(arg, strlen(arg));

        json_decref(input);
        input = json_pack("{sOsOsOsOsOsO}", "command", s, "file_path", s, "notebook_path", s,
                          "path", s, "url", s, "query", s);
        json_decref(s);
    }
    autonomy_decide(norm, tool, input, "/work/repo", &d);
    check_decision(&d);
    autonomy_decide(norm, tool, input, NULL, &d);
    check_decision(&d);

    /* A bare deny rule naming the tool denies every call of it. */
    bare = json_pack("{s:[s]}", "deny", tool);
    if (bare && autonomy_policy_check(bare, NULL, NULL) == 0 && !strchr(tool, '(')) {
        autonomy_decide(bare, tool, input, "/work/repo", &d);
        if (d.action != AUTONOMY_DENY)
            __builtin_trap();
    }
    json_decref(bare);
    json_decref(input);
    json_decref(norm);
    json_decref(policy);
    free(ptext);
    free(tool);
    free(arg);
    return 0;
}
