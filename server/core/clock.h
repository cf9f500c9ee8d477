/*
 * Time as droverd and the agent side measure it: one monotonic clock for intervals, deadlines
 * and timeouts (immune to the wall clock being set), and the wall clock where a timestamp or
 * an absolute time for pthread_cond_timedwait is needed. Any thread; nothing is cached.
 */
#ifndef DROVER_CORE_CLOCK_H
#define DROVER_CORE_CLOCK_H

#include <time.h>

/* Monotonic milliseconds (CLOCK_MONOTONIC): only differences mean anything. */
long long clock_ms(void);

/* The same clock in seconds, with sub-millisecond resolution. */
double clock_s(void);

/* Wall-clock milliseconds since the Unix epoch (CLOCK_REALTIME). */
long long clock_wall_ms(void);

/*
 * The wall-clock time `ms` milliseconds from now, normalised (tv_nsec < 1e9): the absolute
 * deadline pthread_cond_timedwait wants with a default (CLOCK_REALTIME) condition variable.
 */
struct timespec clock_wall_in(long long ms);

#endif
