/* The autoscaler's latest decision as gauges for /metrics (target, circuit breaker). */
#ifndef DROVER_STORE_POOLGAUGES_H
#define DROVER_STORE_POOLGAUGES_H

#include <stdbool.h>

#include "core/err.h"
#include "store/db.h"

struct poolgauges {
    bool have; /* a decision exists */
    long long target, current;
    bool breaker_open;
};

/* The newest scale_events row (the primary key's last entry). Worker threads. */
int poolgauges_latest(struct db *db, struct poolgauges *g, struct err *err);

#endif
