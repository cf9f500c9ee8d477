/*
 * Admin REST handlers for the agent pool: settings, pinned targets, starting and stopping
 * agents. They only touch the database; the leader's pool thread does the backend work (woken
 * by NOTIFY drover_pool). Worker threads.
 */
#ifndef DROVER_API_POOL_H
#define DROVER_API_POOL_H

#include "api/api.h"

/* Terminated by an entry whose method is NULL. */
extern const struct api_route api_pool_routes[];

int api_pool_get(const struct api_request *req, const char *const *params, size_t nparams,
                 struct api_response *resp);
int api_pool_put(const struct api_request *req, const char *const *params, size_t nparams,
                 struct api_response *resp);
int api_pool_scale(const struct api_request *req, const char *const *params, size_t nparams,
                   struct api_response *resp);
int api_pool_agent_start(const struct api_request *req, const char *const *params, size_t nparams,
                         struct api_response *resp);
int api_pool_agent_stop(const struct api_request *req, const char *const *params, size_t nparams,
                        struct api_response *resp);

#endif
