/*
 * Heartbeats answered from memory (issue 16). Per agent, the answer the database last gave its
 * heartbeat (its tasks with state, cancelled and lease_expires_at; the agent row; the tightest
 * budget of what it holds) and the heartbeat still to be written (status, task ids, usage; the
 * latest wins). A heartbeat whose task ids are the cached ones, whose usage passes no cached
 * budget and whose tasks are all live is answered at once from the cached answer and queued;
 * a flusher thread writes every queued heartbeat each tick (--heartbeat-tick) with the group
 * commit statement (store/hbbatch, in chunks of --heartbeat-batch) on a connection of its own,
 * and the statement's answers refresh the table. Anything else (a first heartbeat, a changed
 * task set, a budget crossed, offline) takes the synchronous path and teaches the table.
 *
 * The database extends a lease at flush time (now() + lease), so a queued heartbeat extends it
 * at most one tick late. A crash loses the heartbeats queued since the last flush: at most one
 * tick's (plus a flush that had not committed), each agent's previous heartbeat having been
 * written; their next heartbeat lands (synchronously: a new process knows no one). That is far
 * inside a 120 s lease.
 *
 * Staleness is bounded by NOTIFY (sql/046, channel drover_hb_agent, payload the agent id): a
 * task leaving or reaching an agent, its budget changing, the agent draining or deleted drops
 * that agent's cached answer, so its next heartbeat reads the tables (cancellation reaches an
 * agent within one heartbeat interval). A lost LISTEN connection drops every answer and, while
 * it is down, or while flushes fail (the database is down), nothing is answered from memory.
 * Answers are dropped by generation: a refresh read before a drop never resurrects the answer.
 * Any thread (the LISTEN and flusher threads are its own).
 */
#ifndef DROVER_SVC_HBMEM_H
#define DROVER_SVC_HBMEM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "store/db.h"
#include "store/queue.h"

struct svc_hbmem;

/* Default tick (--heartbeat-tick, ms; 0 turns answering from memory off). */
#define SVC_HBMEM_TICK_DEFAULT 200

/* A table whose flushes run `tick_ms` apart in chunks of `chunk`; no thread yet. */
struct svc_hbmem *svc_hbmem_new(int tick_ms, int chunk);
/* Stops the threads if running (svc_hbmem_stop). NULL is a no-op. */
void svc_hbmem_free(struct svc_hbmem *m);

/*
 * Start the flusher (a connection of its own to `dsn`, NULL: PG*) and the LISTEN thread.
 * `o` is borrowed for the table's life. Until the LISTEN connection is up nothing is answered
 * from memory.
 */
void svc_hbmem_start(struct svc_hbmem *m, const char *dsn, const struct queue_opts *o);
/* Stop both threads; queued heartbeats are flushed first (a clean stop loses none). */
void svc_hbmem_stop(struct svc_hbmem *m);

/*
 * Answer a heartbeat from memory: true with *out (owned; queue_heartbeat's answer) when it
 * could, the heartbeat queued for the next flush. false: take the synchronous path, then hand
 * its answer to svc_hbmem_learn with *gen (any pending heartbeat of the agent is dropped: the
 * synchronous one supersedes it).
 */
bool svc_hbmem_answer(struct svc_hbmem *m, const char *agent, const char *status,
                      const json_t *task_ids, const json_t *usage, json_t **out, uint64_t *gen);

/* What the database answered a heartbeat of `agent` reporting `task_ids`, with the limits
 * (hbbatch_req.limits; borrowed): cached unless the agent's answer was dropped since `gen`. */
void svc_hbmem_learn(struct svc_hbmem *m, const char *agent, uint64_t gen, const json_t *task_ids,
                     const json_t *answer, const json_t *limits);

/* Drop one agent's cached answer (the NOTIFY path), or every one (a LISTEN resync). */
void svc_hbmem_forget(struct svc_hbmem *m, const char *agent);
void svc_hbmem_forget_all(struct svc_hbmem *m);
/* Is the change feed up? (the LISTEN thread; tests set it by hand) */
void svc_hbmem_set_listening(struct svc_hbmem *m, bool up);

/*
 * Write every queued heartbeat now on `db` and refresh their answers (the flusher's tick; tests
 * call it). 0, or -1 with err when some could not be written even one at a time (the database
 * is down): those are queued again unless a newer heartbeat of the agent came, and memory stops
 * answering once flushes have failed for 10 ticks (2 s at least).
 */
int svc_hbmem_flush(struct svc_hbmem *m, struct db *db, const struct queue_opts *o,
                    struct err *err);

/*
 * Write `agent`'s queued heartbeat now, on the caller's connection, before something that must
 * come after it: a status change by the agent (a heartbeat's usage lands on the task only while
 * it is in_progress, so it must not be overtaken by the task's completion). 0 (nothing queued
 * included), or -1 with err (the heartbeat stays queued).
 */
int svc_hbmem_settle(struct svc_hbmem *m, struct db *db, const struct queue_opts *o,
                     const char *agent, struct err *err);

struct svc_hbmem_stats {
    long long memory;       /* answered from memory */
    long long fallback;     /* sent down the synchronous path */
    long long flushed;      /* queued heartbeats written */
    long long flushes;      /* flushes that wrote something */
    long long dropped;      /* cached answers dropped by NOTIFY */
    long long flush_ms_max; /* the longest flush */
    long long queued;       /* heartbeats answered and not yet written, now */
};
void svc_hbmem_stats(struct svc_hbmem *m, struct svc_hbmem_stats *s);

#endif
