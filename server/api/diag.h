/* GET /api/diagnostics: what is wrong, one report (svc/svc_diag.h). */
#ifndef DROVER_API_DIAG_H
#define DROVER_API_DIAG_H

#include "api/api.h"

extern const struct api_route diag_routes[];

#endif
