/* Pool gauges from the latest scale decision. Worker threads. */
#include "svc/svc_poolgauges.h"
#include "store/poolgauges.h"

int svc_poolgauges_render(struct svc_ctx *c, struct buf *b, struct err *err)
{
    struct poolgauges g;

    if (poolgauges_latest(c->db, &g, err) < 0)
        return -1;
    if (!g.have)
        return 0;
    if (buf_appendf(b,
                    "# HELP drover_pool_target The autoscaler's latest target pool size.\n"
                    "# TYPE drover_pool_target gauge\ndrover_pool_target %lld\n"
                    "# HELP drover_pool_breaker_open 1 while the autoscaler's crash-loop circuit "
                    "breaker is open (agents die on start), else 0.\n"
                    "# TYPE drover_pool_breaker_open gauge\ndrover_pool_breaker_open %d\n",
                    g.target, g.breaker_open ? 1 : 0) < 0)
        return err_set(err, ERR_TOO_LARGE, "metrics output exceeds its buffer");
    return 0;
}
