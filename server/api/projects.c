/* REST handlers for projects and schedules. Worker threads. */
#include "api/projects.h"
#include "api/reply.h"
#include "svc/svc_projects.h"

static int projects_api_list(const struct api_request *req, const char *const *params, size_t np,
                             struct api_response *resp)
{
    struct err err = {0};
    json_t *list;

    (void)params;
    (void)np;
    if (svc_projects_list(req->svc, &list, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, json_pack("{s:o}", "projects", list));
}

static int projects_api_create(const struct api_request *req, const char *const *params, size_t np,
                               struct api_response *resp)
{
    struct err err = {0};
    json_t *body, *p;

    (void)params;
    (void)np;
    if (reply_body_object(req, resp, &body) < 0)
        return 0;
    if (svc_projects_create(req->svc, body, &p, &err) < 0)
        reply_err(resp, &err);
    else
        reply_json(resp, 201, p);
    json_decref(body);
    return 0;
}

static int projects_api_show(const struct api_request *req, const char *const *params, size_t np,
                             struct api_response *resp)
{
    struct err err = {0};
    json_t *p;

    if (np < 1 || svc_projects_get(req->svc, params[0], &p, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, p);
}

static int projects_api_update(const struct api_request *req, const char *const *params, size_t np,
                               struct api_response *resp)
{
    struct err err = {0};
    json_t *body, *p;

    if (np < 1)
        return reply_error(resp, ERR_NOT_FOUND, NULL, "no such project");
    if (reply_body_object(req, resp, &body) < 0)
        return 0;
    if (svc_projects_update(req->svc, params[0], body, &p, &err) < 0)
        reply_err(resp, &err);
    else
        reply_json(resp, 200, p);
    json_decref(body);
    return 0;
}

static int projects_api_delete(const struct api_request *req, const char *const *params, size_t np,
                               struct api_response *resp)
{
    struct err err = {0};
    int64_t id;

    if (np < 1 || svc_projects_delete(req->svc, params[0], &id, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, json_pack("{s:I,s:b}", "id", (json_int_t)id, "deleted", 1));
}

static int schedules_api_list(const struct api_request *req, const char *const *params, size_t np,
                              struct api_response *resp)
{
    struct err err = {0};
    json_t *list;

    (void)params;
    (void)np;
    if (svc_projects_schedules(req->svc, &list, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, json_pack("{s:o}", "schedules", list));
}

static int schedules_api_create(const struct api_request *req, const char *const *params, size_t np,
                                struct api_response *resp)
{
    struct err err = {0};
    json_t *body, *s;

    (void)params;
    (void)np;
    if (reply_body_object(req, resp, &body) < 0)
        return 0;
    if (svc_projects_schedule_create(req->svc, body, &s, &err) < 0)
        reply_err(resp, &err);
    else
        reply_json(resp, 201, s);
    json_decref(body);
    return 0;
}

static int schedules_api_delete(const struct api_request *req, const char *const *params, size_t np,
                                struct api_response *resp)
{
    struct err err = {0};
    int64_t id;

    if (np < 1 || reply_path_id(params[0], "schedule", resp, &id) < 0)
        return 0;
    if (svc_projects_schedule_delete(req->svc, id, &err) < 0)
        return reply_err(resp, &err);
    return reply_json(resp, 200, json_pack("{s:I,s:b}", "id", (json_int_t)id, "deleted", 1));
}

const struct api_route projects_routes[] = {
    {"GET", "/api/projects", PRINCIPAL_OPERATOR, projects_api_list},
    {"POST", "/api/projects", PRINCIPAL_ADMIN, projects_api_create},
    {"GET", "/api/projects/{id}", PRINCIPAL_OPERATOR, projects_api_show},
    {"PUT", "/api/projects/{id}", PRINCIPAL_ADMIN, projects_api_update},
    {"DELETE", "/api/projects/{id}", PRINCIPAL_ADMIN, projects_api_delete},
    {"GET", "/api/schedules", PRINCIPAL_OPERATOR, schedules_api_list},
    {"POST", "/api/schedules", PRINCIPAL_ADMIN, schedules_api_create},
    {"DELETE", "/api/schedules/{id}", PRINCIPAL_ADMIN, schedules_api_delete},
    {NULL, NULL, PRINCIPAL_NONE, NULL},
};
