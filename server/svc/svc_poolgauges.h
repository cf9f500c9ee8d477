/* The autoscaler's latest decision for /metrics (drover_pool_target, drover_pool_breaker_open). */
#ifndef DROVER_SVC_POOLGAUGES_H
#define DROVER_SVC_POOLGAUGES_H

#include "core/buf.h"
#include "svc/svc.h"

/* Append the gauges to `b` (nothing before the first decision). 0, or -1 with err. */
int svc_poolgauges_render(struct svc_ctx *c, struct buf *b, struct err *err);

#endif
