/*
 * The event loop lws runs on, and the descriptor limit that bounds the connections. Main
 * (service) thread only, before, during and after server_run's loop.
 */
#ifndef DROVER_NET_EVLOOP_H
#define DROVER_NET_EVLOOP_H

#include <libwebsockets.h>
#include <stdbool.h>

struct ev_loop;

/*
 * Create the lws context from `info` on a libev loop of droverd's own (*ev set), or, when
 * `use_poll` asks for it or libev cannot be used (logged), on lws's own poll() loop (*ev NULL).
 * NULL when lws cannot start (nothing to free).
 */
struct lws_context *evloop_create(struct lws_context_creation_info *info, bool use_poll,
                                  struct ev_loop **ev);

/* One round: wait for events (bounded by the next lws timer) and handle them. < 0: lws is
 * finished. */
int evloop_run_once(struct lws_context *ctx, struct ev_loop *ev);

/* After lws_context_destroy. NULL: nothing. */
void evloop_destroy(struct ev_loop *ev);

/* Set the soft RLIMIT_NOFILE to `want`, as far as the hard limit allows (logged if not). */
void evloop_set_fd_limit(int want);

#endif
