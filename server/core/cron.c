/* The cron parser and matcher. Pure; any thread. */
#include "core/cron.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct cron_field {
    const char *name;
    int min, max;
    const char *const *names; /* index 0 = value min */
};

static const char *const cron_months[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const cron_wdays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct cron_field cron_fields[5] = {
    {"minute", 0, 59, NULL},           {"hour", 0, 23, NULL},
    {"day of month", 1, 31, NULL},     {"month", 1, 12, cron_months},
    {"day of week", 0, 7, cron_wdays},
};

/* A number or a name at *p; advances *p. Returns -1 when neither is there. */
static int cron_value(const struct cron_field *f, const char **p)
{
    if (isdigit((unsigned char)**p)) {
        long v = 0;
        int digits = 0;

        while (isdigit((unsigned char)**p) && digits < 4) {
            v = v * 10 + (**p - '0');
            (*p)++;
            digits++;
        }
        if (isdigit((unsigned char)**p))
            return -1;
        return (int)v;
    }
    for (int i = 0; f->names && f->names[i]; i++)
        if (strncasecmp(*p, f->names[i], 3) == 0 && !isalpha((unsigned char)(*p)[3])) {
            *p += 3;
            return f->min + i;
        }
    return -1;
}

/* One field (a comma list) into a bit set. */
static int cron_field_parse(const struct cron_field *f, const char *s, uint64_t *bits, bool *star,
                            struct err *err)
{
    const char *p = s;

    *bits = 0;
    *star = strcmp(s, "*") == 0;
    for (;;) {
        int lo, hi, step = 1;
        bool single = false;

        if (*p == '*') {
            lo = f->min;
            hi = f->max == 7 ? 6 : f->max;
            p++;
        } else {
            lo = cron_value(f, &p);
            if (lo < 0)
                goto bad;
            hi = lo;
            single = *p != '-';
            if (*p == '-') {
                p++;
                hi = cron_value(f, &p);
                if (hi < 0)
                    goto bad;
            }
        }
        if (*p == '/') {
            p++;
            if (!isdigit((unsigned char)*p))
                goto bad;
            step = cron_value(f, &p);
            if (step <= 0 || step > f->max)
                goto bad;
            if (single)
                hi = f->max == 7 ? 6 : f->max; /* "5/15" means 5-max/15 */
        }
        if (lo < f->min || hi > f->max || lo > hi)
            return err_set(err, ERR_INVALID, "cron %s: %d-%d is outside %d-%d", f->name, lo, hi,
                           f->min, f->max);
        for (int v = lo; v <= hi; v += step)
            *bits |= 1ULL << (f->max == 7 && v == 7 ? 0 : v);
        if (*p == '\0')
            return 0;
        if (*p != ',')
            goto bad;
        p++;
    }
bad:
    return err_set(err, ERR_INVALID,
                   "cron %s field '%.40s' is not valid: use *, N, N-M, */S, N-M/S or a comma list",
                   f->name, s);
}

int cron_parse(const char *expr, struct cron *c, struct err *err)
{
    char copy[201], *fields[5], *save = NULL, *tok;
    uint64_t bits[5];
    bool star[5];
    int n = 0;

    memset(c, 0, sizeof(*c));
    if (!expr || strlen(expr) > 200)
        return err_set(err, ERR_INVALID, "cron expression is missing or longer than 200 bytes");
    snprintf(copy, sizeof(copy), "%s", expr);
    for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        if (n == 5)
            return err_set(
                err, ERR_INVALID,
                "cron expression has more than 5 fields (minute hour day month weekday)");
        fields[n++] = tok;
    }
    if (n != 5)
        return err_set(err, ERR_INVALID,
                       "cron expression needs 5 fields (minute hour day month weekday), got %d", n);
    for (int i = 0; i < 5; i++)
        if (cron_field_parse(&cron_fields[i], fields[i], &bits[i], &star[i], err) < 0)
            return -1;
    c->minutes = bits[0];
    c->hours = (uint32_t)bits[1];
    c->mdays = (uint32_t)bits[2];
    c->months = (uint16_t)bits[3];
    c->wdays = (uint8_t)bits[4];
    c->mday_star = star[2];
    c->wday_star = star[4];
    return 0;
}

static bool cron_day_matches(const struct cron *c, const struct tm *tm)
{
    bool md = c->mdays & (1U << tm->tm_mday);
    bool wd = c->wdays & (1U << tm->tm_wday);

    if (c->mday_star || c->wday_star)
        return md && wd;
    return md || wd;
}

bool cron_matches(const struct cron *c, time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    return (c->minutes & (1ULL << tm.tm_min)) && (c->hours & (1U << tm.tm_hour)) &&
           (c->months & (1U << (tm.tm_mon + 1))) && cron_day_matches(c, &tm);
}

int cron_next(const struct cron *c, time_t after, time_t *next)
{
    /* Skip whole days and hours that cannot match, then step minutes: fast enough for the
     * eight-year horizon (at most ~3000 day steps plus 24 hour and 60 minute steps). */
    time_t t = after - (after % 60) + 60;
    time_t limit = after + (time_t)8 * 366 * 86400;

    while (t <= limit) {
        struct tm tm;

        gmtime_r(&t, &tm);
        if (!(c->months & (1U << (tm.tm_mon + 1))) || !cron_day_matches(c, &tm)) {
            t += 86400 - (tm.tm_hour * 3600 + tm.tm_min * 60);
            continue;
        }
        if (!(c->hours & (1U << tm.tm_hour))) {
            t += 3600 - tm.tm_min * 60;
            continue;
        }
        if (c->minutes & (1ULL << tm.tm_min)) {
            *next = t;
            return 0;
        }
        t += 60;
    }
    return -1;
}
