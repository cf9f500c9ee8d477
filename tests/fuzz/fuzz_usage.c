/*
 * libFuzzer target: the agent's stream-json usage reader (agent/runner/runner_usage.c). The
 * input is a coding command's output; every line goes through the parser like the runner's
 * line callback does, and the sums must stay non-negative.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runner_usage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct runner_usage u = {0};
    char *text = malloc(size + 1), *line, *save = NULL;
    json_t *j;

    memcpy(text, data, size);
    text[size] = '\0';
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        (void)runner_usage_line(&u, line);
    if (u.in_tokens < 0 || u.out_tokens < 0 || u.cache_tokens < 0 || u.usd < 0)
        __builtin_trap();
    j = runner_usage_json(&u);
    if (!j)
        __builtin_trap();
    json_decref(j);
    free(text);
    return 0;
}
