/* Bearer tokens. Worker threads only. */
#include "store/tokens.h"
#include "core/text.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_stmt st_create = {
    "tokens_create",
    "INSERT INTO api_tokens (name, scope, token_hash, agent_id)"
    " VALUES ($1, $2, decode($3, 'hex'), $4) RETURNING id",
    4};

static const struct db_stmt st_verify = {
    "tokens_verify",
    "SELECT id, scope, name, agent_id FROM api_tokens"
    " WHERE token_hash = decode($1, 'hex') AND revoked_at IS NULL",
    1};

static const struct db_stmt st_list = {
    "tokens_list",
    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'name', name, 'scope', scope,"
    " 'agent_id', agent_id, 'created_at', created_at, 'last_used_at', last_used_at,"
    " 'revoked_at', revoked_at) ORDER BY id), '[]')::text FROM api_tokens"
    " WHERE scope <> 'agent' OR $1",
    1};

static const struct db_stmt st_revoke = {
    "tokens_revoke",
    "UPDATE api_tokens SET revoked_at = now() WHERE revoked_at IS NULL"
    " AND (name = $1 OR ($1 ~ '^[0-9]{1,18}$' AND id = $1::bigint)) RETURNING id",
    1};

static const struct db_stmt st_revoke_agent = {
    "tokens_revoke_agent",
    "UPDATE api_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND agent_id = $1::uuid"
    " RETURNING id",
    1};

void tokens_hash_hex(const char *token, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL);
    if (n != 32)
        memset(md, 0, sizeof(md)); /* cannot happen with SHA-256 */
    text_hex(md, 32, out);
}

int tokens_create(struct db *db, enum principal_scope scope, const char *name, const char *agent_id,
                  char token[PRINCIPAL_TOKEN_LEN], long long *id, struct err *err)
{
    unsigned char raw[32];
    char hash[65];
    const char *params[4];
    PGresult *r;

    token[0] = '\0';
    if (id)
        *id = 0;
    if (!name || !*name || strlen(name) > 200 || !text_utf8_valid(name, strlen(name)))
        return err_set(err, ERR_INVALID, "token name must be 1 to 200 characters of UTF-8");
    if (scope < PRINCIPAL_AGENT || scope > PRINCIPAL_ADMIN)
        return err_set(err, ERR_INVALID, "scope must be agent, operator or admin");
    if ((scope == PRINCIPAL_AGENT) != (agent_id != NULL))
        return err_set(err, ERR_INVALID, "an agent token needs an agent id, and only it");
    if (agent_id && !text_is_uuid(agent_id))
        return err_set(err, ERR_INVALID, "agent id must be a UUID");
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return err_set(err, ERR_INTERNAL, "no randomness available for a token");
    memcpy(token, "drv_", 4);
    text_hex(raw, sizeof(raw), token + 4);
    tokens_hash_hex(token, hash);
    params[0] = name;
    params[1] = principal_scope_name(scope);
    params[2] = hash;
    params[3] = agent_id;
    r = db_exec(db, &st_create, params, err);
    if (!r) {
        token[0] = '\0';
        return -1;
    }
    if (id)
        *id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return 0;
}

int tokens_verify(struct db *db, const char *token, struct principal *who, struct err *err)
{
    char hash[65];
    const char *params[1] = {hash};
    PGresult *r;
    const char *scope, *agent;

    memset(who, 0, sizeof(*who));
    if (!token || strlen(token) != PRINCIPAL_TOKEN_LEN - 1 || strncmp(token, "drv_", 4) != 0)
        return err_set(err, ERR_UNAUTHORIZED, "missing or malformed bearer token");
    tokens_hash_hex(token, hash);
    r = db_exec(db, &st_verify, params, err);
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return err_set(err, ERR_UNAUTHORIZED, "unknown or revoked token");
    }
    who->token_id = db_get_ll(r, 0, "id");
    scope = db_get(r, 0, "scope");
    agent = db_get(r, 0, "agent_id");
    principal_scope_parse(scope, &who->scope, NULL);
    snprintf(who->name, sizeof(who->name), "%s", db_get(r, 0, "name"));
    snprintf(who->agent_id, sizeof(who->agent_id), "%s", agent ? agent : "");
    PQclear(r);
    return 0;
}

int tokens_revoke(struct db *db, const char *ref, int *revoked, struct err *err)
{
    const char *params[1] = {ref};
    PGresult *r;

    *revoked = 0;
    if (!ref || !*ref || strlen(ref) > 200)
        return err_set(err, ERR_INVALID, "name the token to revoke by its id or name");
    r = db_exec(db, &st_revoke, params, err);
    if (!r)
        return -1;
    *revoked = PQntuples(r);
    PQclear(r);
    if (*revoked == 0)
        return err_set(err, ERR_NOT_FOUND, "no active token with id or name '%s'", ref);
    return 0;
}

int tokens_revoke_agent(struct db *db, const char *agent_id, int *revoked, struct err *err)
{
    const char *params[1] = {agent_id};
    PGresult *r;

    *revoked = 0;
    if (!agent_id || !text_is_uuid(agent_id))
        return err_set(err, ERR_INVALID, "agent id must be a UUID");
    r = db_exec(db, &st_revoke_agent, params, err);
    if (!r)
        return -1;
    *revoked = PQntuples(r);
    PQclear(r);
    return 0;
}

int tokens_list(struct db *db, bool agents, json_t **tokens, struct err *err)
{
    const char *p[1] = {agents ? "true" : "false"};
    json_error_t je;
    PGresult *r = db_exec(db, &st_list, p, err);

    *tokens = NULL;
    if (!r)
        return -1;
    *tokens = json_loads(PQgetvalue(r, 0, 0), 0, &je);
    PQclear(r);
    return *tokens ? 0 : err_set(err, ERR_INTERNAL, "database returned unreadable JSON");
}
