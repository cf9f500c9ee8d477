/*
 * A fan-out that finishes: accepting one child closes its superseded siblings' pull requests
 * on their forge (project setting fanout_close_siblings, default true), each with the comment
 * "Superseded: fan-out sibling #<id> was accepted (<its PR url>)" first. The accept's
 * transaction only queues the closings (store/prclose.h); the calls are made here once it has
 * committed (fence -> call -> record: no transaction is open during a forge call), by the
 * accepting request and, for what it could not finish, by the outbox thread's retries
 * (5 s doubling to 1 h, the 12th failure gives up). Each outcome is on the sibling: its
 * pull_request.state "closed" and an activity line, or an activity warning (the first failure
 * and the last). Worker threads and the outbox thread.
 */
#ifndef DROVER_SVC_PRCLOSE_H
#define DROVER_SVC_PRCLOSE_H

#include <jansson.h>
#include <stdint.h>

#include "svc/svc.h"

/*
 * One leased closing `row` (as prclose_take / review_comments_take give it): comment unless
 * already commented, close, record. The forge's failures are recorded on the row and the
 * task, not returned: -1 only when the database could not record the outcome.
 */
int svc_prclose_one(struct svc_ctx *c, const json_t *row, struct err *err);

/*
 * After accepting `accepted_id` (committed): close its superseded siblings' pull requests now.
 * Never fails the accept: what goes wrong is logged and left to the outbox's retries.
 */
void svc_prclose_after_accept(struct svc_ctx *c, int64_t accepted_id);

#endif
