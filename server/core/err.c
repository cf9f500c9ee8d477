/* Error records. Any thread. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_vdetail(struct err *err, enum err_code code, const char *reason, const char *fmt,
                va_list ap)
{
    if (!err)
        return -1;
    err->code = code;
    err->reason = reason;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    return -1;
}

int err_set(struct err *err, enum err_code code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    err_vdetail(err, code, NULL, fmt, ap);
    va_end(ap);
    return -1;
}

int err_detail(struct err *err, enum err_code code, const char *reason, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    err_vdetail(err, code, reason, fmt, ap);
    va_end(ap);
    return -1;
}

void err_clear(struct err *err)
{
    if (!err)
        return;
    err->code = ERR_OK;
    err->reason = NULL;
    err->msg[0] = '\0';
}

static const struct {
    const char *name;
    int http;
} err_table[] = {
    [ERR_OK] = {"ok", 200},
    [ERR_INVALID] = {"invalid_argument", 400},
    [ERR_NOT_FOUND] = {"not_found", 404},
    [ERR_FORBIDDEN] = {"forbidden", 403},
    [ERR_UNAUTHORIZED] = {"unauthorized", 401},
    [ERR_CONFLICT] = {"conflict", 409},
    [ERR_STALE_EPOCH] = {"stale_epoch", 409},
    [ERR_TOO_LARGE] = {"too_large", 413},
    [ERR_UNAVAILABLE] = {"unavailable", 503},
    [ERR_BUSY] = {"busy", 503},
    [ERR_INTERNAL] = {"internal", 500},
    [ERR_RATE_LIMITED] = {"rate_limited", 429},
    [ERR_METHOD] = {"method_not_allowed", 405},
    [ERR_UNSUPPORTED] = {"not_supported", 501},
    [ERR_LENGTH_REQUIRED] = {"length_required", 411},
    [ERR_MEDIA_TYPE] = {"unsupported_media_type", 415},
    [ERR_UPGRADE] = {"upgrade_required", 426},
};

const char *err_code_name(enum err_code code)
{
    if ((unsigned)code >= sizeof(err_table) / sizeof(err_table[0]))
        return "internal";
    return err_table[code].name;
}

int err_http_status(enum err_code code)
{
    if ((unsigned)code >= sizeof(err_table) / sizeof(err_table[0]))
        return 500;
    return err_table[code].http;
}

const char *err_name(const struct err *err)
{
    return err->reason ? err->reason : err_code_name(err->code);
}

int err_jrpc_code(enum err_code code)
{
    switch (code) {
    case ERR_INVALID:
    case ERR_TOO_LARGE:
        return -32602;
    case ERR_INTERNAL:
        return -32603;
    default:
        return -32000;
    }
}

int err_exit_code(enum err_code code)
{
    return code == ERR_INVALID || code == ERR_TOO_LARGE ? 2 : 1;
}
