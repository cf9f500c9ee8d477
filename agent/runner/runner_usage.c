/* Usage from stream-json lines; see runner_usage.h. */
#include "runner_usage.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Counts come from a program's output: a negative or absurd number must neither make the sums
 * go backwards nor overflow (signed overflow is undefined behaviour). */
static json_int_t runner_usage_count(const json_t *u, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(u, key));

    return v > 0 ? v : 0;
}

static json_int_t runner_usage_add(json_int_t a, json_int_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

bool runner_usage_line(struct runner_usage *u, const char *line)
{
    json_t *ev, *us;
    const char *type;
    json_int_t in, out, cache;
    bool result;

    if (line[0] != '{' || !(ev = json_loads(line, 0, NULL)))
        return false;
    type = json_string_value(json_object_get(ev, "type"));
    result = type && strcmp(type, "result") == 0;
    if (type && strcmp(type, "assistant") == 0)
        us = json_object_get(json_object_get(ev, "message"), "usage");
    else if (result)
        us = json_object_get(ev, "usage");
    else
        us = NULL;
    if (!json_is_object(us)) {
        json_decref(ev);
        return false;
    }
    in = runner_usage_count(us, "input_tokens");
    out = runner_usage_count(us, "output_tokens");
    cache = runner_usage_add(runner_usage_count(us, "cache_read_input_tokens"),
                             runner_usage_count(us, "cache_creation_input_tokens"));
    if (result) { /* the totals: replace the running sums */
        const json_t *cost = json_object_get(ev, "total_cost_usd");

        u->in_tokens = in;
        u->out_tokens = out;
        u->cache_tokens = cache;
        if (json_is_number(cost) && isfinite(json_number_value(cost)) &&
            json_number_value(cost) >= 0)
            u->usd = json_number_value(cost);
    } else {
        const char *id = json_string_value(json_object_get(json_object_get(ev, "message"), "id"));

        if (id && *id && strlen(id) < sizeof(u->last_id) && strcmp(id, u->last_id) == 0) {
            /* Another block of the same message: take back what its last line added. */
            u->in_tokens -= u->last_in;
            u->out_tokens -= u->last_out;
            u->cache_tokens -= u->last_cache;
        } else {
            snprintf(u->last_id, sizeof(u->last_id), "%s",
                     id && strlen(id) < sizeof(u->last_id) ? id : "");
        }
        /* What this line really added (the sums saturate). */
        u->last_in = runner_usage_add(u->in_tokens, in) - u->in_tokens;
        u->last_out = runner_usage_add(u->out_tokens, out) - u->out_tokens;
        u->last_cache = runner_usage_add(u->cache_tokens, cache) - u->cache_tokens;
        u->in_tokens += u->last_in;
        u->out_tokens += u->last_out;
        u->cache_tokens += u->last_cache;
    }
    u->seen = true;
    json_decref(ev);
    return true;
}

void runner_usage_base(struct runner_usage *u, const json_t *recorded)
{
    const json_t *usd = json_object_get(recorded, "usd");

    u->base_in = runner_usage_count(recorded, "input_tokens");
    u->base_out = runner_usage_count(recorded, "output_tokens");
    u->base_cache = runner_usage_count(recorded, "cache_tokens");
    u->base_usd =
        json_is_number(usd) && isfinite(json_number_value(usd)) && json_number_value(usd) >= 0
            ? json_number_value(usd)
            : 0;
}

json_t *runner_usage_json(const struct runner_usage *u)
{
    json_int_t in = runner_usage_add(u->base_in, u->in_tokens);
    json_int_t out = runner_usage_add(u->base_out, u->out_tokens);

    return json_pack("{s:I, s:I, s:I, s:I, s:f}", "input_tokens", in, "output_tokens", out,
                     "cache_tokens", runner_usage_add(u->base_cache, u->cache_tokens), "tokens",
                     runner_usage_add(in, out), "usd", u->base_usd + u->usd);
}
