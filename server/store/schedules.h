/*
 * Scheduled tasks: cron expressions stored in the database, fired once per slot. Any number
 * of replicas may call schedules_fire_due() at once: the (schedule, slot) primary key of
 * schedule_fires lets exactly one of them enqueue the slot's task. Only the latest due slot
 * fires (missed slots while every replica was down are not replayed). Blocking; worker
 * threads only.
 */
#ifndef DROVER_STORE_SCHEDULES_H
#define DROVER_STORE_SCHEDULES_H

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "core/err.h"
#include "store/db.h"

/* {name, project (id or name), cron, title, prompt, priority?, enabled?} -> the schedule. */
int schedules_create(struct db *db, const json_t *in, json_t **schedule, struct err *err);

/* Every schedule with its next slot: [{id, name, project_id, cron, ..., next_run_at}]. */
int schedules_list(struct db *db, time_t now, json_t **schedules, struct err *err);

int schedules_delete(struct db *db, int64_t id, struct err *err);

/*
 * Fire every enabled schedule whose latest slot <= now has not fired yet. *fired = how many
 * tasks this call enqueued. Call periodically (every ~20 s) from every replica.
 */
int schedules_fire_due(struct db *db, time_t now, int *fired, struct err *err);

#endif
