/*
 * droverctl's tables: rows of text cells printed as aligned columns under a header, each column
 * as wide as its widest cell (in characters, not bytes), the last one unpadded. Cells are
 * copied; what they hold is printed as it is (escaping agent-controlled text is the caller's,
 * before a cell is added). Single-threaded.
 */
#ifndef DROVER_AGENT_CTL_TABLE_H
#define DROVER_AGENT_CTL_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define CTL_TABLE_MAXCOLS 12

struct ctl_table {
    size_t ncols, nrows, cap;
    char **cells; /* nrows * ncols, row-major; row 0 is the header */
    size_t width[CTL_TABLE_MAXCOLS];
};

/* A table with the header `cols` (NULL-terminated, at most CTL_TABLE_MAXCOLS). */
void ctl_table_init(struct ctl_table *t, const char *const *cols);

/* Append a row of ncols cells (NULL prints as "-"). */
void ctl_table_row(struct ctl_table *t, const char *const *cells);

/* Print header and rows to `f`. */
void ctl_table_print(const struct ctl_table *t, FILE *f);

void ctl_table_free(struct ctl_table *t);

#endif
