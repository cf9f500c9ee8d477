/* The exec protocol's frames, requests and peer checks (see runner_exec.h). Any thread. */
#include "runner_exec.h"
#include "core/mem.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Every entry a string without NUL (jansson refuses \u0000 by default) and, for env, with a
 * non-empty NAME before '='. Owned NULL-terminated copy in *out, or -1. */
static int runner_exec_strv(const json_t *a, const char *what, size_t max, bool env, char ***out,
                            struct err *err)
{
    size_t n = json_array_size(a), i;
    char **v;

    if (!json_is_array(a))
        return err_set(err, ERR_INVALID, "%s must be an array of strings", what);
    if (n > max)
        return err_set(err, ERR_INVALID, "%s has %zu entries (at most %zu)", what, n, max);
    v = mem_calloc(n + 1, sizeof(*v));
    for (i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));

        if (!s) {
            err_set(err, ERR_INVALID, "%s[%zu] is not a string", what, i);
            break;
        }
        if (env && (s[0] == '=' || !strchr(s, '='))) {
            err_set(err, ERR_INVALID, "%s[%zu] is not NAME=value", what, i);
            break;
        }
        v[i] = mem_strdup(s);
    }
    if (i < n) {
        for (size_t j = 0; j < i; j++)
            free(v[j]);
        free(v);
        return -1;
    }
    *out = v;
    return 0;
}

static void runner_exec_strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++) {
        memset(v[i], 0, strlen(v[i])); /* the environment holds the task's MCP secret */
        free(v[i]);
    }
    free(v);
}

void runner_exec_req_clear(struct runner_exec_req *req)
{
    runner_exec_strv_free(req->argv);
    runner_exec_strv_free(req->env);
    free(req->cwd);
    memset(req, 0, sizeof(*req));
}

int runner_exec_req_parse(const char *buf, size_t n, struct runner_exec_req *req, struct err *err)
{
    json_error_t je;
    json_t *o = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je), *v;
    const char *key, *cwd;
    int rc = -1;

    memset(req, 0, sizeof(*req));
    if (!json_is_object(o)) {
        err_set(err, ERR_INVALID, "the request is not a JSON object");
        goto out;
    }
    json_object_foreach(o, key, v)
    {
        if (strcmp(key, "v") != 0 && strcmp(key, "argv") != 0 && strcmp(key, "env") != 0 &&
            strcmp(key, "cwd") != 0 && strcmp(key, "timeout_s") != 0) {
            err_set(err, ERR_INVALID, "unknown request field %.40s", key);
            goto out;
        }
    }
    if (json_integer_value(json_object_get(o, "v")) != 1 ||
        !json_is_integer(json_object_get(o, "v"))) {
        err_set(err, ERR_INVALID, "the request's version (v) must be 1");
        goto out;
    }
    cwd = json_string_value(json_object_get(o, "cwd"));
    if (!cwd || cwd[0] != '/') {
        err_set(err, ERR_INVALID, "cwd must be an absolute path");
        goto out;
    }
    v = json_object_get(o, "timeout_s");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 0)) {
        err_set(err, ERR_INVALID, "timeout_s must be a non-negative integer");
        goto out;
    }
    req->timeout_s = v ? (long)json_integer_value(v) : 0;
    if (runner_exec_strv(json_object_get(o, "argv"), "argv", RUNNER_EXEC_ARGV_MAX, false,
                         &req->argv, err) < 0)
        goto out;
    if (!req->argv[0] || !req->argv[0][0]) {
        err_set(err, ERR_INVALID, "argv must name a program");
        goto out;
    }
    if (runner_exec_strv(json_object_get(o, "env"), "env", RUNNER_EXEC_ENV_MAX, true, &req->env,
                         err) < 0)
        goto out;
    req->cwd = mem_strdup(cwd);
    rc = 0;
out:
    if (rc < 0)
        runner_exec_req_clear(req);
    json_decref(o);
    return rc;
}

json_t *runner_exec_req_json(char *const *argv, char *const *env, const char *cwd, long timeout_s)
{
    json_t *a = json_array(), *e = json_array();

    for (size_t i = 0; argv && argv[i]; i++)
        json_array_append_new(a, json_string(argv[i]));
    for (size_t i = 0; env && env[i]; i++)
        if (strchr(env[i], '=')) /* never send what the service would refuse */
            json_array_append_new(e, json_string(env[i]));
    return json_pack("{s:i, s:o, s:o, s:s, s:I}", "v", 1, "argv", a, "env", e, "cwd", cwd,
                     "timeout_s", (json_int_t)timeout_s);
}

/* Write all of buf (the first sendmsg carrying the descriptors). */
static int runner_exec_write(int sock, const char *buf, size_t n, const int *fds, size_t nfds,
                             struct err *err)
{
    union {
        char b[CMSG_SPACE(sizeof(int) * RUNNER_EXEC_FDS)];
        struct cmsghdr align;
    } ctl;

    while (n) {
        struct iovec iov = {.iov_base = (void *)buf, .iov_len = n};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t w;

        if (nfds) {
            struct cmsghdr *c;

            memset(&ctl, 0, sizeof(ctl));
            mh.msg_control = ctl.b;
            mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
            c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
            memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
        }
        w = sendmsg(sock, &mh, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return err_set(err, ERR_UNAVAILABLE, "exec socket: send: %s", strerror(errno));
        buf += w;
        n -= (size_t)w;
        nfds = 0;
    }
    return 0;
}

int runner_exec_send(int sock, const json_t *obj, const int *fds, size_t nfds, struct err *err)
{
    char *body = json_dumps(obj, JSON_COMPACT);
    size_t n = body ? strlen(body) : 0;
    char *frame;
    int rc;

    if (!body || n == 0 || n > RUNNER_EXEC_FRAME_MAX || nfds > RUNNER_EXEC_FDS) {
        free(body);
        return err_set(err, ERR_TOO_LARGE, "exec request too large (%zu bytes)", n);
    }
    frame = mem_alloc(n + 4);
    frame[0] = (char)(n >> 24);
    frame[1] = (char)(n >> 16);
    frame[2] = (char)(n >> 8);
    frame[3] = (char)n;
    memcpy(frame + 4, body, n);
    rc = runner_exec_write(sock, frame, n + 4, fds, nfds, err);
    memset(frame, 0, n + 4);
    memset(body, 0, n);
    free(frame);
    free(body);
    return rc;
}

/* Read exactly n bytes; descriptors from any part go to fds. 0, 1 at EOF before the first
 * byte, -1. */
static int runner_exec_read(int sock, char *buf, size_t n, int *fds, size_t maxfds, size_t *nfds,
                            bool *extra, struct err *err)
{
    size_t got = 0;

    while (got < n) {
        union {
            char b[CMSG_SPACE(sizeof(int) * 16)];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = {.iov_base = buf + got, .iov_len = n - got};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = ctl.b,
                            .msg_controllen = sizeof(ctl.b)};
        ssize_t r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return err_set(err, ERR_UNAVAILABLE, "exec socket: receive: %s", strerror(errno));
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            size_t k;

            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k; i++) {
                int fd;

                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                if (*nfds < maxfds)
                    fds[(*nfds)++] = fd;
                else {
                    close(fd);
                    *extra = true;
                }
            }
        }
        if (mh.msg_flags & MSG_CTRUNC)
            *extra = true;
        if (r == 0) {
            if (got == 0 && !*extra)
                return 1;
            return err_set(err, ERR_INVALID, "exec socket: the frame ends early");
        }
        got += (size_t)r;
    }
    return 0;
}

int runner_exec_recv(int sock, json_t **out, int *fds, size_t maxfds, size_t *nfds, struct err *err)
{
    unsigned char hdr[4];
    size_t n, none = 0;
    bool extra = false;
    json_error_t je;
    char *body = NULL;
    int rc;

    *out = NULL;
    if (!nfds)
        nfds = &none;
    *nfds = 0;
    rc = runner_exec_read(sock, (char *)hdr, 4, fds, maxfds, nfds, &extra, err);
    if (rc != 0)
        goto out;
    n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
    rc = -1;
    if (n == 0 || n > RUNNER_EXEC_FRAME_MAX) {
        err_set(err, ERR_TOO_LARGE, "exec frame of %zu bytes refused (1 .. %u)", n,
                RUNNER_EXEC_FRAME_MAX);
        goto out;
    }
    body = mem_alloc(n);
    if (runner_exec_read(sock, body, n, fds, maxfds, nfds, &extra, err) != 0) {
        if (!err || !err->msg[0])
            err_set(err, ERR_INVALID, "exec socket: the frame ends early");
        goto out;
    }
    if (extra) {
        err_set(err, ERR_INVALID, "exec frame with unexpected descriptors refused");
        goto out;
    }
    *out = json_loadb(body, n, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        err_set(err, ERR_INVALID, "exec frame is not a JSON object");
        goto out;
    }
    rc = 0;
out:
    if (body) {
        memset(body, 0, n);
        free(body);
    }
    if (rc != 0) {
        for (size_t i = 0; i < *nfds; i++)
            close(fds[i]);
        *nfds = 0;
    }
    return rc;
}

int runner_exec_peer_uid(int sock, uid_t *uid, struct err *err)
{
    struct ucred uc;
    socklen_t len = sizeof(uc);

    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0 || len != sizeof(uc))
        return err_set(err, ERR_INTERNAL, "exec socket: SO_PEERCRED: %s", strerror(errno));
    *uid = uc.uid;
    return 0;
}

int runner_exec_peer_check(int sock, uid_t allowed, struct err *err)
{
    uid_t uid = (uid_t)-1; /* GCC -O2 cannot see that err_set returns -1 */

    if (runner_exec_peer_uid(sock, &uid, err) < 0)
        return -1;
    if (uid != allowed)
        return err_set(err, ERR_FORBIDDEN, "exec socket: peer uid %u refused (only uid %u)",
                       (unsigned)uid, (unsigned)allowed);
    return 0;
}
