/*
 * Allocation wrappers that abort on out-of-memory (the Redis/h2o policy: a server that cannot
 * get a few bytes has nothing sensible left to do). Input-driven limits are errors elsewhere.
 * Any thread.
 */
#ifndef DROVER_CORE_MEM_H
#define DROVER_CORE_MEM_H

#include <stddef.h>

void *mem_alloc(size_t n);
void *mem_calloc(size_t n, size_t size);
void *mem_realloc(void *p, size_t n);
char *mem_strdup(const char *s);
char *mem_strndup(const char *s, size_t n);
/* printf into a fresh heap string. */
char *mem_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
