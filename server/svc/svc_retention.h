/*
 * Retention on a schedule (--retention-days, --retention-interval, --retention-batch): every
 * replica's sweep asks whether the run is due; one replica per interval claims it
 * (store/retention.h) and deletes in batches of --retention-batch rows, each its own short
 * statement. A sweep does at most SVC_RETENTION_MAX_BATCHES batches per table, so a large
 * backlog of old rows is worked off over several sweeps and never holds a database worker for
 * long. Worker threads.
 */
#ifndef DROVER_SVC_RETENTION_H
#define DROVER_SVC_RETENTION_H

#include <jansson.h>
#include <stdbool.h>

#include "svc/svc.h"

#define SVC_RETENTION_MAX_BATCHES 20

struct svc_retention_counts {
    long long activity, scale_events, outbox;
    bool more; /* stopped at the cap: more rows are old enough */
};

/* One run now with `days` and `batch`: *n says what went. 0, or -1 with err. */
int svc_retention_run(struct svc_ctx *c, int days, int batch, struct svc_retention_counts *n,
                      struct err *err);

/* From the sweep: run when due (claimed across replicas), log what was deleted. */
void svc_retention_tick(struct svc_ctx *c);

#endif
