/* Visible control characters on a terminal (ctl_term.h). Single-threaded. */
#include "ctl_term.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ctl_term {
    int fd;
    int c2; /* the previous chunk ended in 0xC2, the lead byte of U+0080..U+00BF */
};

size_t ctl_term_render(const char *in, size_t len, char *out, int *c2)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)in[i];

        if (*c2) {
            *c2 = 0;
            if (b >= 0x80 && b <= 0x9f) { /* C1 control: \u0080..\u009f */
                memcpy(out + o, "\\u00", 4);
                out[o + 4] = hex[b >> 4];
                out[o + 5] = hex[b & 15];
                o += 6;
                continue;
            }
            out[o++] = (char)0xc2;
        }
        if (b == 0xc2) {
            *c2 = 1;
            continue;
        }
        if ((b < 0x20 && b != '\n' && b != '\t') || b == 0x7f) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[b >> 4];
            out[o++] = hex[b & 15];
            continue;
        }
        out[o++] = (char)b;
    }
    return o;
}

static ssize_t ctl_term_write(void *cookie, const char *buf, size_t len)
{
    struct ctl_term *t = cookie;
    char out[6 * 512];
    size_t done = 0;

    while (done < len) {
        size_t n = len - done > 512 ? 512 : len - done;
        size_t m = ctl_term_render(buf + done, n, out, &t->c2);

        for (size_t w = 0; w < m;) {
            ssize_t r = write(t->fd, out + w, m - w);

            if (r <= 0)
                return done ? (ssize_t)done : -1;
            w += (size_t)r;
        }
        done += n;
    }
    return (ssize_t)len;
}

static int ctl_term_close(void *cookie)
{
    struct ctl_term *t = cookie;

    if (t->c2) { /* a lone lead byte at the very end: pass it on */
        char b = (char)0xc2;

        (void)!write(t->fd, &b, 1);
    }
    return 0;
}

/* A guarded stream writing to `fd` (1 or 2), line-buffered like a terminal's; NULL on failure.
 * Its state is static: the streams live until exit, which never closes them. */
static FILE *ctl_term_open(int fd)
{
    static struct ctl_term terms[3];
    cookie_io_functions_t io = {.write = ctl_term_write, .close = ctl_term_close};
    struct ctl_term *t = &terms[fd];
    FILE *f;

    memset(t, 0, sizeof(*t));
    t->fd = fd;
    f = fopencookie(t, "w", io);
    if (!f)
        return NULL;
    setvbuf(f, NULL, fd == 2 ? _IONBF : _IOLBF, 0);
    return f;
}

void ctl_term_guard(void)
{
    FILE *f;

    if (isatty(1) && (f = ctl_term_open(1)))
        stdout = f;
    if (isatty(2) && (f = ctl_term_open(2)))
        stderr = f;
}
