/*
 * Small text checks shared by every input path: UTF-8 validity, character counts, UUIDs,
 * slugs. Pure functions; any thread.
 */
#ifndef DROVER_CORE_TEXT_H
#define DROVER_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is well-formed UTF-8 without NUL bytes. */
bool text_utf8_valid(const char *s, size_t len);
/* Number of UTF-8 code points in the NUL-terminated s (assumes valid UTF-8). */
size_t text_utf8_chars(const char *s);
/* The longest prefix of `s` of at most `max` bytes that does not split a UTF-8 character. */
size_t text_utf8_prefix(const char *s, size_t max);
/* True for the canonical 8-4-4-4-12 hex form. */
bool text_is_uuid(const char *s);
/* Lower-case a-z0-9 and '-' from s into out (at most outsz-1 bytes, no leading/trailing '-'). */
void text_slug(const char *s, char *out, size_t outsz);
/* Lower-case hex of in[0..n) into out: 2n characters and a NUL (out holds 2n+1). Per request
 * on the token path: a table, not 32 snprintf calls (~9,000 instructions a token). */
void text_hex(const unsigned char *in, size_t n, char *out);
/*
 * The environment variable `prefix` + `name` that configures one named thing (a project, an
 * endpoint): `name` upper-cased, every byte but an ASCII letter or digit as '_', so that
 * "my-app" under "DROVER_FORGE_TOKEN_" reads DROVER_FORGE_TOKEN_MY_APP. `name` may be NULL (the
 * prefix alone); truncated to outsz-1 bytes.
 */
void text_env_name(const char *prefix, const char *name, char *out, size_t outsz);
/* `url` fit for a message: a user:password@ in its authority becomes ***@. Owned. */
char *text_url_redact(const char *url);

#endif
