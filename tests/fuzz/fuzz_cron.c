/*
 * libFuzzer target: the cron parser and evaluator (server/core/cron.c). The first eight bytes
 * are a time to evaluate at; the rest is the expression.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cron c;
    struct err err = {0};
    uint64_t raw = 0;
    time_t t, next;
    char *expr;

    if (size < 8)
        return 0;
    memcpy(&raw, data, 8);
    /* Years 1970 to ~2300: cron_next looks eight years ahead. */
    t = (time_t)(raw % 10000000000ull);
    expr = malloc(size - 8 + 1);
    memcpy(expr, data + 8, size - 8);
    expr[size - 8] = '\0';
    if (cron_parse(expr, &c, &err) == 0) {
        (void)cron_matches(&c, t);
        if (cron_next(&c, t, &next) == 0) {
            /* The next run is strictly later, on a minute boundary, and matches. */
            if (next <= t || next % 60 != 0 || !cron_matches(&c, next))
                __builtin_trap();
        }
    } else if (!err.msg[0]) {
        __builtin_trap(); /* a refusal always says why */
    }
    free(expr);
    return 0;
}
