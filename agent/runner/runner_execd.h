/*
 * The exec service of DROVER_SANDBOX=container (`drover-agent exec-serve`): it runs in a
 * container of the agent pod that holds no credential, as a uid of its own, and runs the
 * coding command (and agent-setup.sh) for the runner, which talks to it over a unix socket
 * (runner_exec.h). One command at a time: it accepts a connection, refuses any peer whose uid
 * is not `peer_uid` (SO_PEERCRED), reads the request and the three descriptors, starts the
 * command in a process group of its own (umask 007, so the runner, which shares the work
 * tree's group, can read and remove what it writes), reports its pid and its exit status,
 * forwards TERM/KILL asks to the group, and kills the group when the runner disconnects or
 * the request's timeout passes. When the command's leader has exited it kills every other
 * process of its uid (kill(-1): what setsid() escaped the group with), which is why the
 * service's uid must be its own. Main thread; blocking.
 */
#ifndef DROVER_AGENT_RUNNER_EXECD_H
#define DROVER_AGENT_RUNNER_EXECD_H

#include <signal.h>
#include <sys/types.h>

#include "core/err.h"

struct runner_execd_opts {
    const char *socket_path;
    uid_t peer_uid;              /* the runner's uid: the only peer served */
    volatile sig_atomic_t *stop; /* set by a signal handler: stop accepting (may be NULL) */
    int max_conns;               /* > 0: return after that many connections (tests) */
};

/* Listen on opts->socket_path and serve until *stop. 0, or -1 (err) when it cannot listen. */
int runner_execd_serve(const struct runner_execd_opts *opts, struct err *err);

/*
 * Serve one accepted connection `conn` (closed on return): the peer check, the request, the
 * command, its status. Exposed for the unit tests, which drive it over a socketpair.
 */
void runner_execd_conn(int conn, uid_t peer_uid);

/* `drover-agent exec-serve --socket PATH --peer-uid UID`: the exit status. */
int runner_execd_main(int argc, char **argv);

#endif
