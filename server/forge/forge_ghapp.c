/* GitHub App installation tokens (see forge_ghapp.h). Worker threads. */
#include "forge/forge_ghapp.h"
#include "core/http.h"
#include "core/mem.h"
#include "forge/forge_backend.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* base64url without padding (RFC 7515). Owned. */
static char *forge_ghapp_b64url(const unsigned char *p, size_t n)
{
    char *o = mem_alloc(4 * ((n + 2) / 3) + 1);
    size_t k;

    EVP_EncodeBlock((unsigned char *)o, p, (int)n);
    for (k = 0; o[k]; k++)
        o[k] = o[k] == '+' ? '-' : o[k] == '/' ? '_' : o[k];
    while (k && o[k - 1] == '=')
        o[--k] = '\0';
    return o;
}

char *forge_ghapp_jwt(const struct forge_ghapp *app, long long now, struct err *err)
{
    static const char hdr[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
    FILE *f = fopen(app->key_file, "re");
    EVP_PKEY *key = NULL;
    EVP_MD_CTX *md = NULL;
    unsigned char *sig = NULL;
    size_t siglen = 0;
    char *h = NULL, *p = NULL, *input = NULL, *s = NULL, *jwt = NULL, *payload;

    if (!f) {
        err_set(err, ERR_INTERNAL, "cannot read the GitHub App key %s", app->key_file);
        return NULL;
    }
    key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!key) {
        err_set(err, ERR_INTERNAL, "the GitHub App key %s is not a PEM private key", app->key_file);
        return NULL;
    }
    /* iat 60 s in the past against clock drift; exp within GitHub's 10-minute maximum. */
    payload =
        mem_printf("{\"iat\":%lld,\"exp\":%lld,\"iss\":\"%s\"}", now - 60, now + 540, app->app_id);
    h = forge_ghapp_b64url((const unsigned char *)hdr, strlen(hdr));
    p = forge_ghapp_b64url((const unsigned char *)payload, strlen(payload));
    input = mem_printf("%s.%s", h, p);
    md = EVP_MD_CTX_new();
    if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)input, strlen(input)) != 1) {
        err_set(err, ERR_INTERNAL, "cannot sign the GitHub App JWT (an RSA key is needed)");
        goto out;
    }
    sig = mem_alloc(siglen);
    if (EVP_DigestSign(md, sig, &siglen, (const unsigned char *)input, strlen(input)) != 1) {
        err_set(err, ERR_INTERNAL, "cannot sign the GitHub App JWT");
        goto out;
    }
    s = forge_ghapp_b64url(sig, siglen);
    jwt = mem_printf("%s.%s", input, s);
out:
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    free(payload);
    free(h);
    free(p);
    free(input);
    free(sig);
    free(s);
    return jwt;
}

static bool forge_ghapp_id_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 32)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              *s == '.' || *s == '_' || *s == '-'))
            return false;
    return true;
}

int forge_ghapp_token(const struct forge_ghapp *app, char **token, char expires_at[32],
                      struct err *err)
{
    const char *api = app->api_url && *app->api_url ? app->api_url : "https://api.github.com";
    const char *hl[] = {"Accept: application/vnd.github+json", "X-GitHub-Api-Version: 2022-11-28",
                        "User-Agent: droverd", NULL};
    struct forge check = {.kind = FORGE_GITHUB, .api_url = api, .allow = app->allow};
    struct http_req req = {.method = "POST",
                           .headers = hl,
                           .timeout_s = app->timeout_s > 0 ? app->timeout_s : 60,
                           .content_type = "application/json"};
    struct http_resp r = {0};
    json_t *body = NULL, *ans = NULL;
    char *url = NULL, *jwt = NULL, *payload = NULL;
    const char *tok, *exp;
    size_t alen = strlen(api);
    int rc = -1;

    *token = NULL;
    expires_at[0] = '\0';
    if (!forge_ghapp_id_ok(app->app_id) || !forge_ghapp_id_ok(app->installation_id))
        return err_set(err, ERR_INVALID, "the GitHub App id and installation id must be plain ids");
    while (alen && api[alen - 1] == '/')
        alen--;
    url =
        mem_printf("%.*s/app/installations/%s/access_tokens", (int)alen, api, app->installation_id);
    if (forge_cred_check(&check, url, true, err) < 0)
        goto out;
    if (!(jwt = forge_ghapp_jwt(app, (long long)time(NULL), err)))
        goto out;
    body = app->repository && *app->repository
               ? json_pack("{s:[s]}", "repositories", app->repository)
               : json_object();
    if (app->contents_only)
        json_object_set_new(body, "permissions", json_pack("{s:s}", "contents", "write"));
    payload = json_dumps(body, JSON_COMPACT);
    req.url = url;
    req.body = payload;
    req.bearer = jwt;
    if (http_request(NULL, &req, &r, err) < 0)
        goto out;
    ans = r.len ? json_loadb(r.body, r.len, 0, NULL) : NULL;
    if (r.status != 201) {
        const char *m = json_string_value(json_object_get(ans, "message"));

        err_set(err,
                r.status == 401 || r.status == 403 ? ERR_UNAUTHORIZED
                : r.status == 404                  ? ERR_NOT_FOUND
                : r.status >= 500                  ? ERR_UNAVAILABLE
                                                   : ERR_INVALID,
                "GitHub App installation %s: HTTP %ld%s%.200s", app->installation_id, r.status,
                m ? ": " : "", m ? m : "");
        goto out;
    }
    tok = json_string_value(json_object_get(ans, "token"));
    exp = json_string_value(json_object_get(ans, "expires_at"));
    if (!tok || !*tok) {
        err_set(err, ERR_UNAVAILABLE, "GitHub answered no installation token");
        goto out;
    }
    *token = mem_strdup(tok);
    snprintf(expires_at, 32, "%s", exp ? exp : "");
    rc = 0;
out:
    if (ans) {
        /* The answer held the token: wipe the raw body before it is freed. */
        json_decref(ans);
    }
    if (r.body)
        memset(r.body, 0, r.len);
    http_resp_clear(&r);
    if (jwt) {
        memset(jwt, 0, strlen(jwt));
        free(jwt);
    }
    json_decref(body);
    free(payload);
    free(url);
    return rc;
}
