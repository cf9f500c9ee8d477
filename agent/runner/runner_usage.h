/*
 * Token and cost usage from Claude Code's `--output-format stream-json` lines: "assistant"
 * events add to running sums, the final "result" event replaces them with the totals.
 * Pure; any thread.
 */
#ifndef DROVER_RUNNER_USAGE_H
#define DROVER_RUNNER_USAGE_H

#include <jansson.h>
#include <stdbool.h>

struct runner_usage {
    json_int_t in_tokens, out_tokens, cache_tokens; /* never negative, saturating */
    double usd;
    bool seen;
    /* What earlier attempts of the task used (the task's usage when it was claimed): a task's
     * usage and budget cover all its attempts, an ask/answer round included. */
    json_int_t base_in, base_out, base_cache;
    double base_usd;
    /* Claude Code writes one "assistant" line per content block of a message, each with the
     * message's usage: a line of the message counted last replaces its figures. */
    char last_id[64];
    json_int_t last_in, last_out, last_cache;
};

/* Start from the task's recorded usage ({"input_tokens", ...}, may be NULL). */
void runner_usage_base(struct runner_usage *u, const json_t *recorded);

/* Apply one output line. True when it carried usage (then u->seen is set). */
bool runner_usage_line(struct runner_usage *u, const char *line);

/* {"input_tokens","output_tokens","cache_tokens","tokens","usd"}; new reference. */
json_t *runner_usage_json(const struct runner_usage *u);

#endif
