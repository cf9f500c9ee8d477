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

static const struct db_stmt st_revoke = {
    "tokens_revoke",
    "UPDATE api_tokens SET revoked_at = now() WHERE revoked_at IS NULL"
    " AND (name = $1 OR ($1 ~ '^[0-9]{1,18}$' AND id = $1::bigint)) RETURNING id",
    1};

static const char *const tokens_names[] = {"none", "agent", "operator", "admin"};

int tokens_scope_parse(const char *s, enum tokens_scope *out, struct err *err)
{
    for (int i = TOKENS_SCOPE_AGENT; i <= TOKENS_SCOPE_ADMIN; i++) {
        if (s && strcmp(s, tokens_names[i]) == 0) {
            *out = (enum tokens_scope)i;
            return 0;
        }
    }
    return err_set(err, ERR_INVALID, "scope must be agent, operator or admin");
}

const char *tokens_scope_name(enum tokens_scope s)
{
    return (unsigned)s <= TOKENS_SCOPE_ADMIN ? tokens_names[s] : "none";
}

void tokens_hash_hex(const char *token, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[64] = '\0';
}

int tokens_create(struct db *db, enum tokens_scope scope, const char *name, const char *agent_id,
                  char token[TOKENS_LEN], long long *id, struct err *err)
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
    if (scope < TOKENS_SCOPE_AGENT || scope > TOKENS_SCOPE_ADMIN)
        return err_set(err, ERR_INVALID, "scope must be agent, operator or admin");
    if ((scope == TOKENS_SCOPE_AGENT) != (agent_id != NULL))
        return err_set(err, ERR_INVALID, "an agent token needs an agent id, and only it");
    if (agent_id && !text_is_uuid(agent_id))
        return err_set(err, ERR_INVALID, "agent id must be a UUID");
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return err_set(err, ERR_INTERNAL, "no randomness available for a token");
    memcpy(token, "drv_", 4);
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(token + 4 + 2 * i, 3, "%02x", raw[i]);
    tokens_hash_hex(token, hash);
    params[0] = name;
    params[1] = tokens_names[scope];
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

int tokens_verify(struct db *db, const char *token, struct tokens_principal *who, struct err *err)
{
    char hash[65];
    const char *params[1] = {hash};
    PGresult *r;
    const char *scope, *agent;

    memset(who, 0, sizeof(*who));
    if (!token || strlen(token) != TOKENS_LEN - 1 || strncmp(token, "drv_", 4) != 0)
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
    tokens_scope_parse(scope, &who->scope, NULL);
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
