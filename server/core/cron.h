/*
 * A 5-field cron expression (minute hour day-of-month month day-of-week), evaluated in UTC.
 * Fields take `*`, numbers, ranges `a-b`, steps (`*` or a range followed by `/n`; `a/n` means
 * from a to the end) and comma lists; months
 * and weekdays also take three-letter names (jan, mon); weekday 7 is Sunday like 0. As in
 * Vixie cron, when both day fields are restricted a day matches either of them.
 * Pure functions; any thread.
 */
#ifndef DROVER_CORE_CRON_H
#define DROVER_CORE_CRON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/err.h"

struct cron {
    uint64_t minutes; /* bit i = minute i (0-59) */
    uint32_t hours;   /* 0-23 */
    uint32_t mdays;   /* 1-31 */
    uint16_t months;  /* 1-12 */
    uint8_t wdays;    /* 0-6, Sunday = 0 */
    bool mday_star, wday_star;
};

/* Parse `expr`. Returns 0, or -1 with ERR_INVALID naming the bad field. */
int cron_parse(const char *expr, struct cron *c, struct err *err);

/* True when the minute containing `t` matches. */
bool cron_matches(const struct cron *c, time_t t);

/*
 * The first matching minute strictly after `after` (seconds dropped). Returns 0, or -1 when
 * nothing matches within eight years (e.g. "0 0 30 2 *").
 */
int cron_next(const struct cron *c, time_t after, time_t *next);

#endif
