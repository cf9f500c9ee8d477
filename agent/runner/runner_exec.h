/*
 * The exec protocol between drover-agent's runner and the exec service of DROVER_SANDBOX=
 * container (runner_execd.h): the coding command runs in another container, as another uid,
 * that holds none of the agent's credentials; the two share only the work tree and a unix
 * socket. On a SOCK_STREAM unix socket, frames of a 4-byte big-endian length (1 ..
 * RUNNER_EXEC_FRAME_MAX) and that many bytes of one JSON object:
 *   runner -> service, first:  {"v":1, "argv":[..], "env":["NAME=value",..], "cwd":"/abs",
 *                               "timeout_s":N}   with exactly 3 fds (stdin, stdout, stderr)
 *                               attached by SCM_RIGHTS;
 *   service -> runner:         {"started":pid} or {"error":"why"}, then {"exit":code,
 *                               "signal":sig} when the command's leader has exited;
 *   runner -> service, later:  {"kill":"TERM"} or {"kill":"KILL"} (to the command's process
 *                               group); the connection closing kills the group too.
 * Both ends check the peer's uid with SO_PEERCRED. Pure parts plus blocking socket helpers;
 * any thread.
 */
#ifndef DROVER_AGENT_RUNNER_EXEC_H
#define DROVER_AGENT_RUNNER_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "core/err.h"

#define RUNNER_EXEC_FRAME_MAX (4u << 20) /* the prompt travels in the environment */
#define RUNNER_EXEC_ARGV_MAX 1024
#define RUNNER_EXEC_ENV_MAX 4096
#define RUNNER_EXEC_FDS 3

/* A parsed request: argv and env NULL-terminated, owned (runner_exec_req_clear). */
struct runner_exec_req {
    char **argv;
    char **env;
    char *cwd;
    long timeout_s; /* 0 = none (the runner's own timeout applies; this is a backstop) */
};

/* Parse and validate a request frame's JSON (n bytes). 0, or -1 with err (nothing to clear). */
int runner_exec_req_parse(const char *buf, size_t n, struct runner_exec_req *req, struct err *err);
void runner_exec_req_clear(struct runner_exec_req *req);

/* The request for argv/env/cwd as a JSON object (owned). */
json_t *runner_exec_req_json(char *const *argv, char *const *env, const char *cwd, long timeout_s);

/*
 * One frame: `obj` serialised, with `nfds` descriptors attached when nfds > 0. 0 or -1 (err).
 */
int runner_exec_send(int sock, const json_t *obj, const int *fds, size_t nfds, struct err *err);

/*
 * Read one frame into a JSON object (owned, in *out). Descriptors that came with it go to
 * fds[0..*nfds) (at most `maxfds`; any more are closed and the frame refused); fds may be NULL
 * with maxfds 0, then a frame with descriptors is refused. 0, 1 at a clean end of stream (no
 * byte of a frame read), -1 (err).
 */
int runner_exec_recv(int sock, json_t **out, int *fds, size_t maxfds, size_t *nfds,
                     struct err *err);

/* The uid of the process at the other end of the unix socket. 0 or -1 (err). */
int runner_exec_peer_uid(int sock, uid_t *uid, struct err *err);

/* 0 when the peer is `allowed`, else -1 with a message naming both uids. */
int runner_exec_peer_check(int sock, uid_t allowed, struct err *err);

#endif
