/*
 * libFuzzer target: forge webhook payloads classified into one event (server/svc/svc_whevent.c),
 * the code that reads a forge's JSON after the signature checked out. The input's first byte
 * picks the forge (Gitea/Forgejo, GitLab, GitHub) and the event name from each forge's list
 * (or takes the next NUL-terminated part as the name); the rest is the body. A body that is
 * not JSON is wrapped as {"comment":{"body": <text>}} so the classifiers still run on it.
 * Every string the event points to must be readable while the body lives (ASan), and the kind
 * must be one of the enum's.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/svc_whevent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const events[][8] = {
    [SVC_WEBHOOKS_GITEA] = {"pull_request", "pull_request_review_rejected",
                            "pull_request_review_approved", "pull_request_review_comment",
                            "issue_comment", "issues", "issue_label", "ping"},
    [SVC_WEBHOOKS_GITLAB] = {"Merge Request Hook", "Note Hook", "Issue Hook", "Push Hook",
                             "System Hook", "Merge Request Hook", "Note Hook", "Issue Hook"},
    [SVC_WEBHOOKS_GITHUB] = {"pull_request", "pull_request_review", "pull_request_review_comment",
                             "issue_comment", "issues", "ping", "push", "check_run"},
};

static void touch(const char *s)
{
    if (s && strlen(s) == (size_t)-1)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum svc_webhooks_forge forge;
    const struct svc_whevent_dialect *d;
    const char *event, *body = (const char *)data + 1;
    size_t blen = size ? size - 1 : 0;
    struct svc_whevent e;
    char name[64];
    json_t *b;

    if (size < 1)
        return 0;
    forge = (enum svc_webhooks_forge)((data[0] & 3) % 3);
    if (data[0] & 0x80) { /* the event name is the next part of the input */
        const char *nul = memchr(body, '\0', blen);
        size_t n = nul ? (size_t)(nul - body) : blen;

        snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1), body);
        event = name;
        blen = nul ? blen - n - 1 : 0;
        body = nul ? nul + 1 : body + n;
    } else {
        event = events[forge][(data[0] >> 2) & 7];
    }
    b = json_loadb(body, blen, JSON_DECODE_ANY, NULL);
    if (!b)
        b = json_pack("{s:{s:s%}}", "comment", "body", body, blen);
    if (!b) /* not UTF-8 either */
        return 0;
    d = svc_whevent_dialect(forge);
    memset(&e, 0, sizeof(e));
    d->classify(event, svc_whevent_str(b, d->action), b, "@drover", "drover", &e);
    if ((int)e.kind < SVC_WHEVENT_IGNORE || e.kind > SVC_WHEVENT_ISSUE)
        __builtin_trap();
    if (strnlen(e.name, sizeof(e.name)) == sizeof(e.name) ||
        strnlen(e.forge_id, sizeof(e.forge_id)) == sizeof(e.forge_id))
        __builtin_trap();
    touch(e.branch);
    touch(e.url);
    touch(e.author);
    touch(e.body);
    touch(e.path);
    touch(e.ckind);
    touch(e.diff_hunk);
    touch(e.curl);
    touch(e.review_state);
    touch(e.issue_title);
    touch(e.issue_body);
    touch(e.issue_url);
    touch(e.issue_author);
    json_decref(b);
    return 0;
}
