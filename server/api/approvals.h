/*
 * REST handlers for tiered autonomy: the approvals people answer, and the projects' policies
 * (svc/svc_autonomy.h). Worker threads.
 */
#ifndef DROVER_API_APPROVALS_H
#define DROVER_API_APPROVALS_H

#include "api/api.h"

extern const struct api_route approvals_routes[];

#endif
