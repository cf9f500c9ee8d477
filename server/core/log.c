/* logfmt lines on stderr. Any thread. */
#include "core/log.h"
#include "core/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum log_level log_threshold = LOG_INFO;

static const char *const log_names[] = {"error", "warn", "info", "debug"};

void log_emit(enum log_level lvl, const char *mod, const char *fmt, ...)
{
    char msg[1024], esc[2100], ts[40];
    long long now_ms;
    time_t now;
    struct tm tm;
    va_list ap;
    size_t j = 0;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Quote the message so one event stays one line whatever it contains. */
    for (const char *p = msg; *p && j < sizeof(esc) - 3; p++) {
        if (*p == '"' || *p == '\\') {
            esc[j++] = '\\';
            esc[j++] = *p;
        } else if (*p == '\n' || *p == '\r') {
            esc[j++] = ' ';
        } else {
            esc[j++] = *p;
        }
    }
    esc[j] = '\0';
    now_ms = clock_wall_ms();
    now = (time_t)(now_ms / 1000);
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "ts=%s.%03lldZ lvl=%s mod=%s msg=\"%s\"\n", ts, now_ms % 1000, log_names[lvl],
            mod, esc);
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (unsigned i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
        if (s && strcmp(s, log_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}
