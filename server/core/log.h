/*
 * One-line logfmt logging to stderr: ts=... lvl=... mod=... msg="...".
 * Any thread (each line is written with one fprintf, which stdio locks).
 * The macros check the level before formatting anything. Never log secrets.
 */
#ifndef DROVER_CORE_LOG_H
#define DROVER_CORE_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* The only mutable global besides the stop flag: set once at start-up. */
extern enum log_level log_threshold;

void log_emit(enum log_level lvl, const char *mod, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parse "error", "warn", "info", "debug". Returns 0, or -1 when unknown. */
int log_level_parse(const char *s, enum log_level *out);

#define LOG_AT(lvl, mod, ...)                                                                      \
    do {                                                                                           \
        if ((lvl) <= log_threshold)                                                                \
            log_emit((lvl), (mod), __VA_ARGS__);                                                   \
    } while (0)
#define log_error(mod, ...) LOG_AT(LOG_ERROR, mod, __VA_ARGS__)
#define log_warn(mod, ...) LOG_AT(LOG_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) LOG_AT(LOG_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) LOG_AT(LOG_DEBUG, mod, __VA_ARGS__)

#endif
