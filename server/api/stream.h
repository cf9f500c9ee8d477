/* GET /api/stream/activity: activity rows as server-sent events (the reference stream). */
#ifndef DROVER_API_STREAM_H
#define DROVER_API_STREAM_H

#include "api/api.h"

extern const struct api_route stream_routes[];

/* The api_stream fetch function: activity rows after the cursor (an activity id). */
int stream_activity_fetch(struct db *db, const char *arg, char cursor[API_STREAM_CURSOR_MAX],
                          json_t **events, struct err *err);

#endif
