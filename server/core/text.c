/* Text checks. Pure; any thread. */
#include "core/text.h"
#include "core/mem.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

bool text_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    while (p < end) {
        unsigned c = *p;
        size_t n;
        unsigned cp;

        if (c == 0)
            return false;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if ((size_t)(end - p) <= n)
            return false;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        /* Overlong forms, surrogates and values past U+10FFFF. */
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += n + 1;
    }
    return true;
}

size_t text_utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

bool text_is_uuid(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

    if (!s || strlen(s) != sizeof(shape) - 1)
        return false;
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

void text_slug(const char *s, char *out, size_t outsz)
{
    size_t j = 0;
    bool dash = false;

    if (outsz == 0)
        return;
    for (; *s && j + 1 < outsz; s++) {
        unsigned char c = (unsigned char)*s;

        if (isalnum(c) && c < 0x80) {
            if (dash && j > 0 && j + 2 < outsz)
                out[j++] = '-';
            dash = false;
            out[j++] = (char)tolower(c);
        } else {
            dash = true;
        }
    }
    out[j] = '\0';
}

void text_env_name(const char *prefix, const char *name, char *out, size_t outsz)
{
    size_t k;

    if (outsz == 0)
        return;
    snprintf(out, outsz, "%s", prefix);
    k = strlen(out);
    for (; name && *name && k + 1 < outsz; name++)
        out[k++] = isalnum((unsigned char)*name) ? (char)toupper((unsigned char)*name) : '_';
    out[k] = '\0';
}

char *text_url_redact(const char *url)
{
    const char *sep = strstr(url, "://"), *at, *slash;

    if (!sep)
        return mem_strdup(url);
    at = strchr(sep + 3, '@');
    slash = strchr(sep + 3, '/');
    if (!at || (slash && slash < at))
        return mem_strdup(url);
    return mem_printf("%.*s***%s", (int)(sep + 3 - url), url, at);
}

size_t text_utf8_prefix(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max)
        return n;
    /* Back up over continuation bytes (10xxxxxx) to the start of the character cut in two. */
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

void text_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}
