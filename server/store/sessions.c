/*
 * MCP session rows. Worker threads.
 */
#include "store/sessions.h"
#include "core/text.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_stmt st_create = {
    "sessions_create",
    "INSERT INTO mcp_sessions (id, token_id, protocol_version, client_info)"
    " VALUES ($1, $2, $3, $4::jsonb)",
    4};

static const struct db_stmt st_check = {
    "sessions_check",
    /* last_seen_at is refreshed at most once a minute, so most requests only read. */
    "WITH s AS (SELECT id, last_seen_at FROM mcp_sessions WHERE id = $1"
    "  AND coalesce(token_id, 0) = $2::bigint),"
    " u AS (UPDATE mcp_sessions m SET last_seen_at = now() FROM s"
    "  WHERE m.id = s.id AND s.last_seen_at < now() - interval '60 seconds')"
    " SELECT id FROM s",
    2};

static const struct db_stmt st_delete = {
    "sessions_delete",
    "DELETE FROM mcp_sessions WHERE id = $1 AND coalesce(token_id, 0) = $2::bigint RETURNING id",
    2};

static const struct db_stmt st_expire = {
    "sessions_expire",
    "DELETE FROM mcp_sessions WHERE last_seen_at < now() - make_interval(secs => $1)", 1};

static const struct db_stmt st_level = {"sessions_level",
                                        "UPDATE mcp_sessions SET log_level = $2 WHERE id = $1", 2};

static bool sessions_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;

    if (n == 0 || n >= SESSIONS_ID_LEN + 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (id[i] < 0x21 || id[i] > 0x7e)
            return false;
    return true;
}

int sessions_create(struct db *db, long long token_id, const char *protocol_version,
                    const json_t *client_info, char id[SESSIONS_ID_LEN], struct err *err)
{
    unsigned char raw[32];
    char tok[24], *ci = client_info ? json_dumps(client_info, JSON_COMPACT) : NULL;
    const char *p[4] = {id, token_id ? tok : NULL, protocol_version, ci};
    PGresult *r;

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        free(ci);
        return err_set(err, ERR_INTERNAL, "no randomness available for a session id");
    }
    memcpy(id, "mcp_", 4);
    text_hex(raw, sizeof(raw), id + 4);
    snprintf(tok, sizeof(tok), "%lld", token_id);
    r = db_exec(db, &st_create, p, err);
    free(ci);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

static int sessions_run(struct db *db, const struct db_stmt *st, const char *id, long long token_id,
                        bool *hit, struct err *err)
{
    char tok[24];
    const char *p[2] = {id, tok};
    PGresult *r;

    *hit = false;
    if (!sessions_id_ok(id))
        return 0;
    snprintf(tok, sizeof(tok), "%lld", token_id);
    r = db_exec(db, st, p, err);
    if (!r)
        return -1;
    *hit = PQntuples(r) > 0;
    PQclear(r);
    return 0;
}

int sessions_check(struct db *db, const char *id, long long token_id, bool *found, struct err *err)
{
    return sessions_run(db, &st_check, id, token_id, found, err);
}

int sessions_delete(struct db *db, const char *id, long long token_id, bool *deleted,
                    struct err *err)
{
    return sessions_run(db, &st_delete, id, token_id, deleted, err);
}

int sessions_set_level(struct db *db, const char *id, const char *level, struct err *err)
{
    const char *p[2] = {id, level};
    PGresult *r;

    if (!id)
        return 0;
    r = db_exec(db, &st_level, p, err);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int sessions_expire(struct db *db, int idle_seconds, int *n, struct err *err)
{
    char secs[16];
    const char *p[1] = {secs};
    PGresult *r;

    *n = 0;
    snprintf(secs, sizeof(secs), "%d", idle_seconds);
    r = db_exec(db, &st_expire, p, err);
    if (!r)
        return -1;
    *n = atoi(PQcmdTuples(r));
    PQclear(r);
    return 0;
}
