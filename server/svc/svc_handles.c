/* Signed task handles. Worker threads. */
#include "svc/svc_handles.h"
#include "core/text.h"
#include "store/mcpkeys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HANDLE_PREFIX "drv-task-"
#define HANDLE_MAC_HEX 32 /* 128 bits of the HMAC */

int svc_handles_load(struct svc_ctx *c, struct svc_handles_key *k, struct err *err)
{
    return mcpkeys_get(c->db, "task_handles", k->secret, sizeof(k->secret), err);
}

void svc_handles_wipe(struct svc_handles_key *k)
{
    OPENSSL_cleanse(k->secret, sizeof(k->secret));
}

static void svc_handles_hex(const struct svc_handles_key *k, int64_t id,
                            char hex[HANDLE_MAC_HEX + 1])
{
    char msg[40];
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;

    snprintf(msg, sizeof(msg), "task:%lld", (long long)id);
    if (!HMAC(EVP_sha256(), k->secret, (int)strlen(k->secret), (const unsigned char *)msg,
              strlen(msg), mac, &maclen) ||
        maclen < HANDLE_MAC_HEX / 2)
        memset(mac, 0, sizeof(mac)); /* cannot happen with SHA-256; never a valid MAC */
    text_hex(mac, HANDLE_MAC_HEX / 2, hex);
}

void svc_handles_sign(const struct svc_handles_key *k, int64_t id, char out[SVC_HANDLE_LEN])
{
    char hex[HANDLE_MAC_HEX + 1];

    svc_handles_hex(k, id, hex);
    snprintf(out, SVC_HANDLE_LEN, HANDLE_PREFIX "%lld.%s", (long long)id, hex);
}

int svc_handles_make(struct svc_ctx *c, int64_t id, char out[SVC_HANDLE_LEN], struct err *err)
{
    struct svc_handles_key k;

    if (svc_handles_load(c, &k, err) < 0)
        return -1;
    svc_handles_sign(&k, id, out);
    svc_handles_wipe(&k);
    return 0;
}

int svc_handles_parse(struct svc_ctx *c, const char *handle, int64_t *id, struct err *err)
{
    char hex[HANDLE_MAC_HEX + 1], *end;
    const char *dot;
    long long v;

    *id = 0;
    if (!handle || strncmp(handle, HANDLE_PREFIX, strlen(HANDLE_PREFIX)) != 0 ||
        strlen(handle) >= SVC_HANDLE_LEN || !(dot = strchr(handle, '.')))
        return err_set(err, ERR_NOT_FOUND, "no such task");
    v = strtoll(handle + strlen(HANDLE_PREFIX), &end, 10);
    if (end != dot || v <= 0 || strlen(dot + 1) != HANDLE_MAC_HEX)
        return err_set(err, ERR_NOT_FOUND, "no such task");
    struct svc_handles_key k;
    if (svc_handles_load(c, &k, err) < 0)
        return -1;
    svc_handles_hex(&k, v, hex);
    svc_handles_wipe(&k);
    if (CRYPTO_memcmp(hex, dot + 1, HANDLE_MAC_HEX) != 0) /* constant time */
        return err_set(err, ERR_NOT_FOUND, "no such task");
    *id = v;
    return 0;
}
