/*
 * A growable byte buffer with a hard cap (curl's dynbuf idea): appending past the cap fails
 * and leaves the buffer as it was, so request bodies and messages stay bounded.
 * Any thread; one owner at a time. The data is always NUL-terminated for convenience.
 */
#ifndef DROVER_CORE_BUF_H
#define DROVER_CORE_BUF_H

#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;   /* allocated */
    size_t limit; /* hard maximum of len */
};

void buf_init(struct buf *b, size_t limit);
/* Returns 0, or -1 when the result would exceed the limit (the buffer is unchanged). */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
void buf_clear(struct buf *b);
/* Hands the data to the caller (who frees it) and re-initialises the buffer. */
char *buf_take(struct buf *b, size_t *len);

#endif
