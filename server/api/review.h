/*
 * REST handlers for the end of a task's review: POST /api/tasks/{id}/accept ({"comment"?}),
 * /rework ({"instructions"}) and /reject ({"reason"?}), for developers and admins (a
 * developer on the tasks it may act on, svc/svc_review.h). Worker threads.
 */
#ifndef DROVER_API_REVIEW_H
#define DROVER_API_REVIEW_H

#include "api/api.h"

extern const struct api_route review_routes[];

#endif
