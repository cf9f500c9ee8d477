/* The tiered-autonomy policy check and matcher (see autonomy.h). Pure; any thread. */
#include "core/autonomy.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "core/text.h"

/* Longest path considered; a longer one cannot be placed and counts as outside. */
#define AUTONOMY_MAX_PATH 4096

/* The policy's keys, in the order the normalized form carries them. */
static const char *const autonomy_keys[] = {
    "allow",   "ask", "deny", "default", "outside_repo", "network", "approval_timeout_seconds",
    "enabled", NULL};

/*
 * What counts as network use in a Bash sub-command (the `network` category): its program
 * (the basename of the first word after assignments), or for entries of two words the
 * program and its subcommand (the first word after the program's options).
 */
static const char *const autonomy_network[] = {
    "curl",     "wget",      "ssh",       "scp",           "sftp",  "rsync", "nc",
    "ncat",     "netcat",    "telnet",    "ftp",           "socat", "gh",    "git push",
    "git pull", "git fetch", "git clone", "git ls-remote", NULL};

/* Programs that run a command we cannot see (the sub-command is opaque). */
static const char *const autonomy_opaque[] = {"eval",  "exec",    "source",  ".",
                                              "xargs", "sudo",    "nohup",   "timeout",
                                              "nice",  "command", "builtin", NULL};

/* Shells, opaque with a -c option (the command is an argument string). */
static const char *const autonomy_shells[] = {"sh", "bash", "zsh", "dash", "ksh", NULL};

/* The tools that edit files: Edit rules name them all, and outside_repo applies to them. */
static const char *const autonomy_edit_tools[] = {"Edit", "MultiEdit", "Write", "NotebookEdit",
                                                  NULL};
/* The tools that read files: Read rules name them all. */
static const char *const autonomy_read_tools[] = {"Read", "Glob", "Grep", "LS", NULL};

/* A rule string split into its tool name and specifier; points into the string. */
struct autonomy_rule {
    const char *text;
    size_t tool_len;
    const char *spec; /* NULL for a bare rule */
    size_t spec_len;
};

enum autonomy_kind {
    AUTONOMY_OTHER,
    AUTONOMY_BASH,
    AUTONOMY_FILE,
    AUTONOMY_FETCH,
    AUTONOMY_SEARCH
};

/* One call (for Bash: one sub-command) as the rules see it. */
struct autonomy_call {
    const char *tool;
    enum autonomy_kind kind;
    const char *spec; /* Bash: the normalized sub-command; WebFetch: url; WebSearch: query */
    const char *abs;  /* files: the normalized absolute path, NULL when it cannot be placed */
    const char *rel;  /* files: the repo-relative path when inside, else NULL */
    char host[256];   /* WebFetch: the url's host, lower case */
    bool outside;     /* the outside_repo category applies */
    bool network;     /* the network category applies */
};

static bool autonomy_in(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static bool autonomy_tool_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '*';
}

/* Split a rule. Returns NULL, or what is wrong with it (a static string). */
static const char *autonomy_rule_parse(const char *s, struct autonomy_rule *r)
{
    size_t len = strlen(s);
    const char *open;
    int depth = 0;

    memset(r, 0, sizeof(*r));
    r->text = s;
    if (len == 0)
        return "empty rule";
    if (len > AUTONOMY_MAX_RULE_LEN)
        return "rule longer than 1000 bytes";
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '(')
            depth++;
        else if (s[i] == ')' && --depth < 0)
            return "unbalanced parentheses";
    }
    if (depth != 0)
        return "unbalanced parentheses";
    open = strchr(s, '(');
    r->tool_len = open ? (size_t)(open - s) : len;
    if (r->tool_len == 0)
        return "missing tool name";
    for (size_t i = 0; i < r->tool_len; i++)
        if (!autonomy_tool_char(s[i]))
            return "tool name may hold only letters, digits, '_', '-' and '*'";
    if (!open)
        return NULL;
    /* The ')' that closes the first '(' must end the rule: parentheses inside the specifier
     * are fine as long as they balance. */
    depth = 0;
    for (const char *p = open;; p++) {
        if (*p == '(') {
            depth++;
        } else if (*p == ')' && --depth == 0) {
            if (p[1] != '\0')
                return "text after ')'";
            r->spec = open + 1;
            r->spec_len = (size_t)(p - open - 1);
            break;
        }
    }
    if (r->spec_len == 0)
        return "empty specifier";
    return NULL;
}

/* Whether the rule's tool name names the call's tool. */
static bool autonomy_tool_matches(const struct autonomy_rule *r, const char *tool)
{
    const char *t = r->text;
    size_t n = r->tool_len;

    if (n == 4 && memcmp(t, "Edit", 4) == 0)
        return autonomy_in(tool, autonomy_edit_tools);
    if (n == 4 && memcmp(t, "Read", 4) == 0)
        return autonomy_in(tool, autonomy_read_tools);
    if (n > 5 && memcmp(t, "mcp__", 5) == 0) {
        const char *sep = NULL;
        size_t prefix = 0;

        for (size_t i = 5; i + 1 < n; i++)
            if (t[i] == '_' && t[i + 1] == '_') {
                sep = t + i;
                break;
            }
        if (!sep)
            prefix = n; /* mcp__srv: every tool of srv */
        else if (sep + 3 == t + n && sep[2] == '*')
            prefix = (size_t)(sep - t); /* mcp__srv__* */
        if (prefix && strncmp(tool, t, prefix) == 0 && strncmp(tool + prefix, "__", 2) == 0)
            return true;
    }
    return strlen(tool) == n && memcmp(tool, t, n) == 0;
}

/*
 * Whether s[0..n) matches pat[0..m): `*` matches any run of characters (within one segment
 * when `path`), `?` one character (not '/' when `path`), and when `path` a `**` segment
 * matches any number of whole segments; `\` makes the next character literal. Rows of
 * reachable positions, O(m * n): patterns come from a policy and strings from an agent, and
 * backtracking would let either make a match exponential.
 */
static bool autonomy_glob(const char *pat, size_t m, const char *s, size_t n, bool path)
{
    bool *cur = mem_calloc(n + 1, 1), *next = mem_calloc(n + 1, 1), *tmp, ok;
    size_t i = 0;

    cur[0] = true;
    while (i < m) {
        memset(next, 0, n + 1);
        if (path && pat[i] == '*' && i + 1 < m && pat[i + 1] == '*' &&
            (i == 0 || pat[i - 1] == '/') && (i + 2 == m || pat[i + 2] == '/')) {
            bool any = false;

            if (i + 2 == m) { /* a final `**`: everything below */
                for (size_t j = 0; j <= n; j++) {
                    any = any || cur[j];
                    next[j] = any;
                }
                i += 2;
            } else { /* `**` then a slash: zero or more whole segments */
                for (size_t j = 0; j <= n; j++) {
                    next[j] = cur[j] || (any && j > 0 && s[j - 1] == '/');
                    any = any || cur[j];
                }
                i += 3;
            }
        } else if (pat[i] == '*') {
            for (size_t j = 0; j <= n; j++)
                next[j] = cur[j] || (j > 0 && next[j - 1] && (!path || s[j - 1] != '/'));
            i++;
        } else {
            bool any_char = pat[i] == '?';
            char c = pat[i];

            if (pat[i] == '\\' && i + 1 < m)
                c = pat[++i];
            i++;
            for (size_t j = 0; j < n; j++)
                if (cur[j] && (any_char ? !path || s[j] != '/' : s[j] == c))
                    next[j + 1] = true;
        }
        tmp = cur;
        cur = next;
        next = tmp;
    }
    ok = cur[n];
    free(cur);
    free(next);
    return ok;
}

/* Trim and collapse runs of blanks to one space: s[0..n) into out (n + 1 bytes). */
static size_t autonomy_collapse(const char *s, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
            if (o > 0 && out[o - 1] != ' ')
                out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    return o;
}

/* A Bash specifier against one normalized sub-command. */
static bool autonomy_bash_matches(const char *spec, size_t n, const char *cmd)
{
    char pat[AUTONOMY_MAX_RULE_LEN + 1];
    size_t m = autonomy_collapse(spec, n, pat);

    if (m >= 2 && pat[m - 2] == ':' && pat[m - 1] == '*') {
        /* Prefix rule: the prefix itself, or the prefix and a word boundary. */
        size_t p = m - 2, cl = strlen(cmd);

        while (p > 0 && pat[p - 1] == ' ')
            p--;
        return cl >= p && memcmp(cmd, pat, p) == 0 && (cmd[p] == '\0' || cmd[p] == ' ');
    }
    return autonomy_glob(pat, m, cmd, strlen(cmd), false);
}

/*
 * A file pattern against the call's path, gitignore style: `//x` is absolute; `~` matches
 * nothing; `/x`, `./x` and any pattern with an inner slash are anchored at the repository's
 * root; one without (`*.env`) matches that name in any directory. As in gitignore a pattern
 * that names a directory covers everything under it, and a trailing slash names only
 * directories.
 */
static bool autonomy_path_matches(const char *spec, size_t n, const struct autonomy_call *c)
{
    char pat[AUTONOMY_MAX_RULE_LEN + 16];
    const char *subject;
    bool anchored = false, dir_only = false;
    size_t m;

    if (n >= 2 && spec[0] == '/' && spec[1] == '/') {
        if (!c->abs)
            return false;
        spec += 2;
        n -= 2;
        subject = c->abs + 1;
        anchored = true;
    } else if (spec[0] == '~') {
        return false;
    } else {
        if (!c->rel)
            return false;
        subject = c->rel;
        if (n >= 2 && spec[0] == '.' && spec[1] == '/') {
            spec += 2;
            n -= 2;
            anchored = true;
        } else if (spec[0] == '/') {
            spec++;
            n--;
            anchored = true;
        }
    }
    while (n > 0 && spec[n - 1] == '/') {
        n--;
        dir_only = true;
    }
    if (n == 0) /* the root itself ("/", "./", "//"): everything below it */
        return true;
    if (memchr(spec, '/', n))
        anchored = true;
    m = (size_t)snprintf(pat, sizeof(pat), "%s%.*s", anchored ? "" : "**/", (int)n, spec);
    if (!dir_only && autonomy_glob(pat, m, subject, strlen(subject), true))
        return true;
    memcpy(pat + m, "/**", 4);
    return autonomy_glob(pat, m + 3, subject, strlen(subject), true);
}

/* The host of a url, lower case, without user info, port or a final dot. */
static void autonomy_url_host(const char *url, char *host, size_t hostsz)
{
    const char *p = strstr(url, "://"), *e, *at;
    size_t o = 0;

    p = p ? p + 3 : url;
    e = p + strcspn(p, "/?#\\");
    for (at = p; at < e; at++)
        if (*at == '@')
            p = at + 1;
    if (*p == '[') {
        p++;
        while (p < e && *p != ']' && o + 1 < hostsz)
            host[o++] = *p++;
    } else {
        while (p < e && *p != ':' && o + 1 < hostsz)
            host[o++] = *p++;
    }
    while (o > 0 && host[o - 1] == '.')
        o--;
    host[o] = '\0';
    for (size_t i = 0; i < o; i++)
        if (host[i] >= 'A' && host[i] <= 'Z')
            host[i] = (char)(host[i] - 'A' + 'a');
}

static bool autonomy_exact(const char *spec, size_t n, const char *s)
{
    return s && strlen(s) == n && memcmp(s, spec, n) == 0;
}

/* Whether a rule's specifier (already known to name the call's tool) matches the call. */
static bool autonomy_spec_matches(const struct autonomy_rule *r, const struct autonomy_call *c)
{
    if (!r->spec)
        return true;
    switch (c->kind) {
    case AUTONOMY_BASH:
        return autonomy_bash_matches(r->spec, r->spec_len, c->spec);
    case AUTONOMY_FILE:
        return autonomy_path_matches(r->spec, r->spec_len, c);
    case AUTONOMY_FETCH:
        if (r->spec_len > 7 && memcmp(r->spec, "domain:", 7) == 0) {
            const char *dom = r->spec + 7;
            size_t dl = r->spec_len - 7, hl = strlen(c->host);

            if (hl == dl)
                return strncasecmp(c->host, dom, dl) == 0;
            return hl > dl && c->host[hl - dl - 1] == '.' &&
                   strncasecmp(c->host + hl - dl, dom, dl) == 0;
        }
        return autonomy_exact(r->spec, r->spec_len, c->spec);
    case AUTONOMY_SEARCH:
        return autonomy_exact(r->spec, r->spec_len, c->spec);
    case AUTONOMY_OTHER:
        break;
    }
    return false; /* no string of an MCP or other tool's input is the one to compare */
}

/* Copy the heap string s (freed) into out: control characters as spaces, cut with "..." on
 * a character boundary when it does not fit. */
static void autonomy_text(char *out, size_t outsz, char *s)
{
    size_t n;

    for (char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    n = strlen(s);
    if (n < outsz) {
        memcpy(out, s, n + 1);
    } else {
        n = text_utf8_prefix(s, outsz - 4);
        memcpy(out, s, n);
        memcpy(out + n, "...", 4);
    }
    free(s);
}

/* The first rule of list `a` that matches the call; records it in d->rule. */
static bool autonomy_list_match(const json_t *policy, enum autonomy_action a,
                                const struct autonomy_call *c, struct autonomy_decision *d)
{
    const json_t *list = json_object_get(policy, autonomy_action_name(a));

    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *s = json_string_value(json_array_get(list, i));
        struct autonomy_rule r;

        if (!s || autonomy_rule_parse(s, &r) != NULL)
            continue; /* autonomy_policy_check refused it already */
        if (autonomy_tool_matches(&r, c->tool) && autonomy_spec_matches(&r, c)) {
            autonomy_text(d->rule, sizeof(d->rule),
                          mem_printf("%s: %s", autonomy_action_name(a), s));
            return true;
        }
    }
    return false;
}

static int autonomy_action_parse(const char *s, enum autonomy_action *a)
{
    for (int i = AUTONOMY_ALLOW; i <= AUTONOMY_DENY; i++)
        if (s && strcmp(s, autonomy_action_name((enum autonomy_action)i)) == 0) {
            *a = (enum autonomy_action)i;
            return 0;
        }
    return -1;
}

static enum autonomy_action autonomy_setting(const json_t *policy, const char *key,
                                             enum autonomy_action dflt)
{
    enum autonomy_action a = dflt;

    (void)autonomy_action_parse(json_string_value(json_object_get(policy, key)), &a);
    return a;
}

/* The precedence of autonomy.h, for one call or Bash sub-command. */
static void autonomy_rules(const json_t *policy, const struct autonomy_call *c,
                           struct autonomy_decision *d)
{
    const char *cat = c->outside ? "outside_repo" : c->network ? "network" : NULL;
    enum autonomy_action ca = c->outside ? autonomy_setting(policy, "outside_repo", AUTONOMY_DENY)
                                         : autonomy_setting(policy, "network", AUTONOMY_ASK);

    if (autonomy_list_match(policy, AUTONOMY_DENY, c, d)) {
        d->action = AUTONOMY_DENY;
    } else if (autonomy_list_match(policy, AUTONOMY_ASK, c, d)) {
        d->action = AUTONOMY_ASK;
    } else if (cat && ca != AUTONOMY_ALLOW) {
        d->action = ca;
        snprintf(d->rule, sizeof(d->rule), "%s", cat);
    } else if (autonomy_list_match(policy, AUTONOMY_ALLOW, c, d)) {
        d->action = AUTONOMY_ALLOW;
    } else if (cat) {
        d->action = AUTONOMY_ALLOW;
        snprintf(d->rule, sizeof(d->rule), "%s", cat);
    } else {
        d->action = autonomy_setting(policy, "default", AUTONOMY_ASK);
        snprintf(d->rule, sizeof(d->rule), "default");
    }
}

/* The end of the shell word at s: quotes and backslash escapes stay inside it. */
static const char *autonomy_word_end(const char *s)
{
    char q = 0;

    for (; *s; s++) {
        if (q) {
            if (*s == q)
                q = 0;
            else if (q == '"' && *s == '\\' && s[1])
                s++;
        } else if (*s == '\'' || *s == '"') {
            q = *s;
        } else if (*s == '\\' && s[1]) {
            s++;
        } else if (*s == ' ') {
            break;
        }
    }
    return s;
}

/* The word s..e without its quotes and backslashes, cut to outsz - 1 bytes. */
static void autonomy_unquote(const char *s, const char *e, char *out, size_t outsz)
{
    size_t o = 0;

    for (; s < e && o + 1 < outsz; s++)
        if (*s != '\'' && *s != '"' && *s != '\\')
            out[o++] = *s;
    out[o] = '\0';
}

/* NAME=value */
static bool autonomy_assignment(const char *s, const char *e)
{
    const char *p = s;

    if (p == e || !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
        return false;
    while (p < e && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '_'))
        p++;
    return p < e && *p == '=';
}

/* Whether a sub-command's words (after the program) make it opaque or network use. */
static void autonomy_program(const char *prog, const char *args, bool *opaque, bool *network)
{
    char word[64], sub[64] = "";
    bool skip_next = false;

    *opaque = autonomy_in(prog, autonomy_opaque);
    for (const char *p = args; *p;) {
        const char *e = autonomy_word_end(p);

        autonomy_unquote(p, e, word, sizeof(word));
        p = *e ? e + 1 : e;
        if (strcmp(prog, "env") == 0 && word[0] != '-' && !strchr(word, '='))
            *opaque = true; /* env running a command */
        if (autonomy_in(prog, autonomy_shells) && word[0] == '-' && word[1] != '-' &&
            strchr(word, 'c'))
            *opaque = true; /* sh -c 'string', also -ec, -lc */
        if (!sub[0] && !skip_next && word[0] != '-')
            snprintf(sub, sizeof(sub), "%s", word);
        /* git -C dir / -c key=value take an argument before the subcommand. */
        skip_next = !sub[0] && (strcmp(word, "-C") == 0 || strcmp(word, "-c") == 0);
    }
    *network = autonomy_in(prog, autonomy_network);
    if (!*network && sub[0]) {
        char both[130];

        snprintf(both, sizeof(both), "%s %s", prog, sub);
        *network = autonomy_in(both, autonomy_network);
    }
}

/* Decide one sub-command (blank-collapsed) and keep the most restrictive result in best. */
static void autonomy_sub(const json_t *policy, struct autonomy_call *c, char *s, bool opaque_cmd,
                         struct autonomy_decision *best, bool *have)
{
    struct autonomy_decision d;
    char prog[64];
    const char *e, *slash;
    bool opaque = false, network = false;
    size_t n;

    while (*s == ' ')
        s++;
    n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        s[--n] = '\0';
    /* Leading assignments only set the environment of what follows. */
    for (e = autonomy_word_end(s); *s && autonomy_assignment(s, e); e = autonomy_word_end(s))
        s = *e ? (char *)e + 1 : (char *)e;
    if (!*s && *have)
        return; /* an empty sub-command (a trailing ';' or '&') decides nothing */
    autonomy_unquote(s, e, prog, sizeof(prog));
    slash = strrchr(prog, '/');
    autonomy_program(slash && slash[1] ? slash + 1 : prog, *e ? e + 1 : e, &opaque, &network);
    memset(&d, 0, sizeof(d));
    c->spec = s;
    c->network = network;
    autonomy_rules(policy, c, &d);
    /* Opaque: at least ask, and say why, unless a deny or ask rule of its own decided. */
    if ((opaque || opaque_cmd) && d.action != AUTONOMY_DENY && strncmp(d.rule, "ask: ", 5) != 0) {
        d.action = AUTONOMY_ASK;
        snprintf(d.rule, sizeof(d.rule), "opaque");
    }
    if (!*have || d.action > best->action)
        *best = d;
    *have = true;
}

/*
 * Split a Bash command on ; && || | & and newlines outside quotes (not the & of 2>&1 or &>,
 * nor the | of >|), collapsing blanks outside quotes, and decide each sub-command. $( `
 * <( >( anywhere outside single quotes make the whole command opaque.
 */
static void autonomy_bash(const json_t *policy, struct autonomy_call *c, const char *cmd,
                          struct autonomy_decision *d)
{
    size_t len = strlen(cmd);
    char *buf = mem_alloc(len + 1);
    bool sq = false, dq = false, opaque = false, have = false;
    char *all = mem_alloc(len + 2);
    size_t ao = 0;

    /* First pass: find the separators and whether the command is opaque, writing the
     * sub-commands NUL-separated into `all`; then decide them (opacity is known by then). */
    for (size_t i = 0; i < len; i++) {
        char ch = cmd[i], nx = cmd[i + 1];
        bool sep = false;

        if (sq) {
            if (ch == '\'')
                sq = false;
        } else if (ch == '\\' && nx == '\n') {
            i++; /* a line continuation joins the lines */
            continue;
        } else if (ch == '\\' && nx) {
            all[ao++] = ch;
            all[ao++] = nx;
            i++;
            continue;
        } else if (dq) {
            if (ch == '"')
                dq = false;
            else if (ch == '`' || (ch == '$' && nx == '('))
                opaque = true;
        } else if (ch == '\'') {
            sq = true;
        } else if (ch == '"') {
            dq = true;
        } else if (ch == '`' || ((ch == '$' || ch == '<' || ch == '>') && nx == '(')) {
            opaque = true;
        } else if (ch == ';' || ch == '\n') {
            sep = true;
        } else if (ch == '&') {
            bool redirect = (ao > 0 && (all[ao - 1] == '>' || all[ao - 1] == '<')) || nx == '>';

            sep = !redirect;
            if (nx == '&')
                i++;
        } else if (ch == '|') {
            sep = !(ao > 0 && all[ao - 1] == '>');
            if (nx == '|' || nx == '&')
                i++;
        }
        if (sep) {
            all[ao++] = '\0';
            continue;
        }
        if (!sq && !dq && (ch == ' ' || ch == '\t' || ch == '\r')) {
            if (ao > 0 && all[ao - 1] != ' ' && all[ao - 1] != '\0')
                all[ao++] = ' ';
            continue;
        }
        all[ao++] = ch;
    }
    all[ao] = '\0';
    /* An unterminated quote hides where the command ends: opaque too. */
    opaque = opaque || sq || dq;
    for (size_t i = 0; i <= ao; i += strlen(all + i) + 1) {
        snprintf(buf, len + 1, "%s", all + i);
        autonomy_sub(policy, c, buf, opaque, d, &have);
    }
    free(all);
    free(buf);
}

/* Lexically normalize `path` (absolute, or relative to the absolute `root`) into out: no
 * ".", "..", empty or trailing segments. False when it cannot be placed. */
static bool autonomy_path_norm(const char *root, const char *path, char *out, size_t outsz)
{
    char joined[2 * AUTONOMY_MAX_PATH + 2];
    size_t o = 0;
    int n;

    if (path[0] == '~')
        return false; /* home-relative: there is no home to resolve it against */
    if (path[0] == '/')
        n = snprintf(joined, sizeof(joined), "%s", path);
    else if (root && root[0] == '/')
        n = snprintf(joined, sizeof(joined), "%s/%s", root, path);
    else
        return false;
    if (n < 0 || (size_t)n >= sizeof(joined))
        return false;
    for (const char *p = joined; *p;) {
        const char *seg;
        size_t sl;

        while (*p == '/')
            p++;
        seg = p;
        while (*p && *p != '/')
            p++;
        sl = (size_t)(p - seg);
        if (sl == 0 || (sl == 1 && seg[0] == '.'))
            continue;
        if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            continue;
        }
        if (o + 1 + sl + 1 > outsz)
            return false;
        out[o++] = '/';
        memcpy(out + o, seg, sl);
        o += sl;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return true;
}

/*
 * Place a file tool's path. A missing path leaves nothing for a pattern to match, and for an
 * editing tool counts as outside: it is not known to be inside.
 */
static void autonomy_place(struct autonomy_call *c, const char *path, const char *repo_root,
                           char *abs, char *root)
{
    bool have_root = repo_root && autonomy_path_norm(NULL, repo_root, root, AUTONOMY_MAX_PATH);
    size_t rl;

    if (path && autonomy_path_norm(have_root ? root : NULL, path, abs, AUTONOMY_MAX_PATH))
        c->abs = abs;
    if (c->abs && have_root) {
        rl = strlen(root);
        if (strcmp(root, "/") == 0)
            c->rel = c->abs + 1;
        else if (strncmp(c->abs, root, rl) == 0 && c->abs[rl] == '\0')
            c->rel = "";
        else if (strncmp(c->abs, root, rl) == 0 && c->abs[rl] == '/')
            c->rel = c->abs + rl + 1;
    }
    c->outside = autonomy_in(c->tool, autonomy_edit_tools) && !c->rel;
}

void autonomy_decide(const json_t *policy, const char *tool_name, const json_t *input,
                     const char *repo_root, struct autonomy_decision *d)
{
    struct autonomy_call c;
    const char *tool = tool_name ? tool_name : "";
    const char *s;
    char *abs = NULL, *root = NULL;

    memset(d, 0, sizeof(*d));
    memset(&c, 0, sizeof(c));
    c.tool = tool;
    if (strcmp(tool, "Bash") == 0) {
        s = json_string_value(json_object_get(input, "command"));
        c.kind = AUTONOMY_BASH;
        autonomy_bash(policy, &c, s ? s : "", d);
        autonomy_text(d->action_text, sizeof(d->action_text), mem_printf("Bash(%s)", s ? s : ""));
        return;
    }
    if (autonomy_in(tool, autonomy_edit_tools) || autonomy_in(tool, autonomy_read_tools)) {
        bool search =
            strcmp(tool, "Glob") == 0 || strcmp(tool, "Grep") == 0 || strcmp(tool, "LS") == 0;

        s = json_string_value(json_object_get(input, strcmp(tool, "NotebookEdit") == 0
                                                         ? "notebook_path"
                                                     : search ? "path"
                                                              : "file_path"));
        if (!s && search)
            s = repo_root; /* Glob and Grep search the working directory by default */
        abs = mem_alloc(AUTONOMY_MAX_PATH);
        root = mem_alloc(AUTONOMY_MAX_PATH);
        c.kind = AUTONOMY_FILE;
        autonomy_place(&c, s, repo_root, abs, root);
        autonomy_rules(policy, &c, d);
        autonomy_text(d->action_text, sizeof(d->action_text),
                      mem_printf("%s(%s)", tool,
                                 c.rel   ? (c.rel[0] ? c.rel : ".")
                                 : c.abs ? c.abs
                                 : s     ? s
                                         : ""));
        free(abs);
        free(root);
        return;
    }
    if (strcmp(tool, "WebFetch") == 0 || strcmp(tool, "WebSearch") == 0) {
        bool fetch = tool[3] == 'F';

        s = json_string_value(json_object_get(input, fetch ? "url" : "query"));
        c.kind = fetch ? AUTONOMY_FETCH : AUTONOMY_SEARCH;
        c.spec = s ? s : "";
        c.network = true;
        if (fetch)
            autonomy_url_host(c.spec, c.host, sizeof(c.host));
        autonomy_rules(policy, &c, d);
        autonomy_text(d->action_text, sizeof(d->action_text), mem_printf("%s(%s)", tool, c.spec));
        return;
    }
    c.kind = AUTONOMY_OTHER;
    autonomy_rules(policy, &c, d);
    autonomy_text(d->action_text, sizeof(d->action_text), mem_printf("%s", tool));
}

const char *autonomy_action_name(enum autonomy_action a)
{
    switch (a) {
    case AUTONOMY_ALLOW:
        return "allow";
    case AUTONOMY_ASK:
        return "ask";
    case AUTONOMY_DENY:
        return "deny";
    }
    return "ask";
}

/* One rule list: an array of at most AUTONOMY_MAX_RULES well-formed rule strings. */
static int autonomy_list_check(const json_t *list, const char *key, struct err *err)
{
    if (!json_is_array(list))
        return err_set(err, ERR_INVALID, "%s: must be an array of rule strings", key);
    if (json_array_size(list) > AUTONOMY_MAX_RULES)
        return err_set(err, ERR_INVALID, "%s: more than %d rules", key, AUTONOMY_MAX_RULES);
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *v = json_array_get(list, i);
        const char *s = json_string_value(v), *why;
        struct autonomy_rule r;

        if (!s)
            return err_set(err, ERR_INVALID, "%s[%zu]: rule is not a string", key, i);
        if (strlen(s) != json_string_length(v))
            return err_set(err, ERR_INVALID, "%s[%zu]: rule holds a NUL byte", key, i);
        why = autonomy_rule_parse(s, &r);
        if (why && strlen(s) > 0 && strlen(s) <= AUTONOMY_MAX_RULE_LEN)
            return err_set(err, ERR_INVALID, "%s[%zu]: %s in '%.80s%s'", key, i, why, s,
                           strlen(s) > 80 ? "..." : "");
        if (why)
            return err_set(err, ERR_INVALID, "%s[%zu]: %s", key, i, why);
    }
    return 0;
}

int autonomy_policy_check(const json_t *policy, json_t **normalized, struct err *err)
{
    static const struct {
        const char *key;
        enum autonomy_action dflt;
    } settings[] = {
        {"default", AUTONOMY_ASK}, {"outside_repo", AUTONOMY_DENY}, {"network", AUTONOMY_ASK}};
    json_t *out = NULL, *v;
    const char *key;
    int rc = -1;

    if (normalized)
        *normalized = NULL;
    if (!json_is_object(policy)) {
        err_set(err, ERR_INVALID, "autonomy policy must be a JSON object");
        goto out;
    }
    json_object_foreach((json_t *)policy, key, v)
    {
        if (!autonomy_in(key, autonomy_keys)) {
            err_set(err, ERR_INVALID,
                    "unknown key '%.60s' (known: allow, ask, deny, default, outside_repo, "
                    "network, approval_timeout_seconds, enabled)",
                    key);
            goto out;
        }
    }
    out = json_object();
    for (int a = AUTONOMY_ALLOW; a <= AUTONOMY_DENY; a++) {
        const char *name = autonomy_action_name((enum autonomy_action)a);

        v = json_object_get(policy, name);
        if (v && autonomy_list_check(v, name, err) < 0)
            goto out;
        json_object_set_new(out, name, v ? json_deep_copy(v) : json_array());
    }
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        enum autonomy_action act = settings[i].dflt;

        v = json_object_get(policy, settings[i].key);
        if (v && autonomy_action_parse(json_string_value(v), &act) < 0) {
            err_set(err, ERR_INVALID, "%s: must be \"allow\", \"ask\" or \"deny\"",
                    settings[i].key);
            goto out;
        }
        json_object_set_new(out, settings[i].key, json_string(autonomy_action_name(act)));
    }
    v = json_object_get(policy, "approval_timeout_seconds");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 10 || json_integer_value(v) > 86400)) {
        err_set(err, ERR_INVALID, "approval_timeout_seconds: must be an integer from 10 to 86400");
        goto out;
    }
    json_object_set_new(out, "approval_timeout_seconds",
                        json_integer(v ? json_integer_value(v) : 600));
    v = json_object_get(policy, "enabled");
    if (v && !json_is_boolean(v)) {
        err_set(err, ERR_INVALID, "enabled: must be true or false");
        goto out;
    }
    json_object_set_new(out, "enabled", json_boolean(v ? json_is_true(v) : true));
    if (normalized) {
        *normalized = out;
        out = NULL;
    }
    rc = 0;
out:
    json_decref(out);
    return rc;
}
