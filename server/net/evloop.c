/*
 * The event loop under lws, and the descriptor limit (net/evloop.h).
 *
 * lws 4.1's own loop calls poll() over every connection at each wake-up: with 10,000 agents
 * that scan was most of droverd's CPU. With epoll (libev, loaded by lws from Debian's
 * libwebsockets-evlib-ev) a wake-up costs what is ready, not what is open. The loop is ours
 * ("foreign" to lws) so that one round at a time can run and the stop logic stays in
 * server_run. Main (service) thread only.
 */
#include "net/evloop.h"
#include "core/log.h"

#include <errno.h>
#include <ev.h>
#include <string.h>
#include <sys/resource.h>

struct lws_context *evloop_create(struct lws_context_creation_info *info, bool use_poll,
                                  struct ev_loop **ev)
{
    void *loops[1];
    struct lws_context *ctx;

    *ev = NULL;
    if (!use_poll) {
        /* ev_loop_new, not the default loop: that one would take over SIGCHLD, which the
         * process pod backend needs for its agents. */
        *ev = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
        if (*ev) {
            loops[0] = *ev;
            info->foreign_loops = loops;
            info->options |= LWS_SERVER_OPTION_LIBEV;
            ctx = lws_create_context(info);
            info->foreign_loops = NULL;
            info->options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
            if (ctx) {
                log_info("server", "event loop: libev (%s)",
                         ev_backend(*ev) == EVBACKEND_EPOLL ? "epoll" : "not epoll");
                return ctx;
            }
            ev_loop_destroy(*ev);
            *ev = NULL;
        }
        log_warn("server", "event loop: libev unavailable (is libwebsockets-evlib-ev "
                           "installed?); falling back to poll()");
    }
    ctx = lws_create_context(info);
    if (ctx)
        log_info("server", "event loop: poll");
    return ctx;
}

int evloop_run_once(struct lws_context *ctx, struct ev_loop *ev)
{
    if (ev) {
        ev_run(ev, EVRUN_ONCE);
        return 0;
    }
    return lws_service(ctx, 0);
}

void evloop_destroy(struct ev_loop *ev)
{
    if (ev)
        ev_loop_destroy(ev);
}

/*
 * The soft descriptor limit is what bounds the connections. (Not lws's fd_limit_per_thread:
 * below the process limit, that makes lws 4.1 find a connection from its descriptor by a
 * linear scan of every slot, on every event: 35 % of droverd's CPU at 15,000 connections. At
 * the process limit, the lookup is an index.)
 */
void evloop_set_fd_limit(int want)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != (rlim_t)want) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)want ? rl.rlim_max : (rlim_t)want;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            log_warn("server", "cannot set the descriptor limit to %d: %s", want, strerror(errno));
    }
}
