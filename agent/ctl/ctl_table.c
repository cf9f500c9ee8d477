/* droverctl's aligned tables. Single-threaded. */
#include "ctl_table.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

/* Characters in UTF-8 text: bytes that do not continue a sequence. */
static size_t ctl_table_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void ctl_table_add(struct ctl_table *t, const char *const *cells)
{
    if ((t->nrows + 1) * t->ncols > t->cap) {
        t->cap = t->cap ? t->cap * 2 : t->ncols * 16;
        while (t->cap < (t->nrows + 1) * t->ncols)
            t->cap *= 2;
        t->cells = mem_realloc(t->cells, t->cap * sizeof(*t->cells));
    }
    for (size_t c = 0; c < t->ncols; c++) {
        const char *s = cells[c] ? cells[c] : "-";
        size_t w = ctl_table_chars(s);

        t->cells[t->nrows * t->ncols + c] = mem_strdup(s);
        if (w > t->width[c])
            t->width[c] = w;
    }
    t->nrows++;
}

void ctl_table_init(struct ctl_table *t, const char *const *cols)
{
    memset(t, 0, sizeof(*t));
    while (cols[t->ncols] && t->ncols < CTL_TABLE_MAXCOLS)
        t->ncols++;
    ctl_table_add(t, cols);
}

void ctl_table_row(struct ctl_table *t, const char *const *cells)
{
    ctl_table_add(t, cells);
}

void ctl_table_print(const struct ctl_table *t, FILE *f)
{
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];

            if (c + 1 == t->ncols) {
                fprintf(f, "%s\n", s);
                break;
            }
            fprintf(f, "%s%*s  ", s, (int)(t->width[c] - ctl_table_chars(s)), "");
        }
    }
}

void ctl_table_free(struct ctl_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}
