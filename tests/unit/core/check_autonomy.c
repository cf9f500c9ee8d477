/* The tiered-autonomy policy check and matcher (pure; no database). */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/autonomy.h"
#include "testsuite.h"

#define ROOT "/work/repo"

/* One tool call and what must come of it; rule and text NULL = not checked. */
struct dcase {
    const char *tool;
    const char *input; /* JSON */
    const char *root;
    const char *action;
    const char *rule;
    const char *text;
};

static json_t *checked(const char *policy)
{
    struct err err = {0};
    json_t *p = json_loads(policy, 0, NULL), *norm = NULL;

    ck_assert_msg(p != NULL, "bad test JSON: %s", policy);
    ck_assert_msg(autonomy_policy_check(p, &norm, &err) == 0, "%s: %s", policy, err.msg);
    json_decref(p);
    return norm;
}

static void run_cases(const char *policy, const struct dcase *c, size_t n)
{
    json_t *p = checked(policy);

    for (size_t i = 0; i < n; i++) {
        json_t *in = c[i].input ? json_loads(c[i].input, 0, NULL) : NULL;
        struct autonomy_decision d;

        ck_assert_msg(!c[i].input || in != NULL, "bad test JSON: %s", c[i].input);
        autonomy_decide(p, c[i].tool, in, c[i].root, &d);
        ck_assert_msg(strcmp(autonomy_action_name(d.action), c[i].action) == 0,
                      "%s %s: %s (%s), want %s", c[i].tool, c[i].input,
                      autonomy_action_name(d.action), d.rule, c[i].action);
        if (c[i].rule)
            ck_assert_msg(strcmp(d.rule, c[i].rule) == 0, "%s %s: rule '%s', want '%s'", c[i].tool,
                          c[i].input, d.rule, c[i].rule);
        if (c[i].text)
            ck_assert_msg(strcmp(d.action_text, c[i].text) == 0, "%s %s: text '%s', want '%s'",
                          c[i].tool, c[i].input, d.action_text, c[i].text);
        json_decref(in);
    }
    json_decref(p);
}

#define RUN(policy, cases) run_cases(policy, cases, sizeof(cases) / sizeof(cases[0]))

static const char *const P =
    "{\"allow\": [\"Edit\", \"Read\", \"Bash(npm test:*)\", \"Bash(ls:*)\","
    " \"Bash(echo:*)\", \"Bash(make)\", \"Bash(git status)\","
    " \"Bash(git log *)\", \"Bash(curl:*)\", \"Bash(bash:*)\","
    " \"Bash(cat:*)\", \"mcp__github\"],"
    " \"ask\": [\"Bash(kubectl apply:*)\", \"Edit(.github/workflows/**)\","
    " \"mcp__slack__*\"],"
    " \"deny\": [\"Bash(git push --force:*)\", \"Bash(rm -rf *)\","
    " \"Edit(*.env)\", \"Edit(//etc/**)\", \"Read(//etc/shadow)\","
    " \"Edit(~/.bashrc)\", \"mcp__github__delete_repo\"]}";

#define BASH(cmd) "{\"command\": \"" cmd "\"}"
#define FILE(p) "{\"file_path\": \"" p "\"}"

/*
 * Every case decided under P, one group a kind of tool call (the tests below add other
 * policies of their own).
 */
static const struct dcase under_p[] = {
    /* Bash: prefix, wildcard and exact rules. */
    {"Bash", BASH("npm test"), ROOT, "allow", "allow: Bash(npm test:*)", "Bash(npm test)"},
    {"Bash", BASH("npm test -- -u"), ROOT, "allow", "allow: Bash(npm test:*)", NULL},
    /* a prefix ends at a word boundary */
    {"Bash", BASH("npm testing"), ROOT, "ask", "default", "Bash(npm testing)"},
    {"Bash", BASH("npm"), ROOT, "ask", "default", NULL},
    /* whitespace collapsed, assignments dropped */
    {"Bash", BASH("  npm \\t  test   "), ROOT, "allow", "allow: Bash(npm test:*)", NULL},
    {"Bash", BASH("CI=1 FOO='a b' npm test"), ROOT, "allow", "allow: Bash(npm test:*)", NULL},
    {"Bash", BASH("CI=1 npm testing"), ROOT, "ask", "default", NULL},
    /* exact */
    {"Bash", BASH("make"), ROOT, "allow", "allow: Bash(make)", NULL},
    {"Bash", BASH("make install"), ROOT, "ask", "default", NULL},
    {"Bash", BASH("git status"), ROOT, "allow", "allow: Bash(git status)", NULL},
    {"Bash", BASH("git status -s"), ROOT, "ask", "default", NULL},
    /* wildcard: across spaces, the whole command */
    {"Bash", BASH("git log --oneline -5"), ROOT, "allow", "allow: Bash(git log *)", NULL},
    {"Bash", BASH("git log"), ROOT, "ask", "default", NULL},
    {"Bash", BASH("rm -rf /tmp/x y"), ROOT, "deny", "deny: Bash(rm -rf *)", NULL},
    {"Bash", BASH("rm -rf"), ROOT, "ask", "default", NULL},
    {"Bash", BASH("git push --force origin x"), ROOT, "deny", "deny: Bash(git push --force:*)",
     "Bash(git push --force origin x)"},
    {"Bash", BASH("git push --forceful"), ROOT, "ask", "network", NULL},
    /* malformed input: an empty command */
    {"Bash", BASH(""), ROOT, "ask", "default", "Bash()"},
    {"Bash", "{\"command\": 5}", ROOT, "ask", "default", "Bash()"},
    {"Bash", "{}", NULL, "ask", "default", "Bash()"},
    /* Bash: compound commands and quotes. */
    {"Bash", BASH("ls && git push --force x"), ROOT, "deny", "deny: Bash(git push --force:*)",
     "Bash(ls && git push --force x)"},
    {"Bash", BASH("ls; git push --force x"), ROOT, "deny", NULL, NULL},
    {"Bash", BASH("ls || git push --force x"), ROOT, "deny", NULL, NULL},
    {"Bash", BASH("ls | git push --force x"), ROOT, "deny", NULL, NULL},
    {"Bash", BASH("ls & git push --force x"), ROOT, "deny", NULL, NULL},
    {"Bash", BASH("ls\\ngit push --force x"), ROOT, "deny", NULL, "Bash(ls git push --force x)"},
    {"Bash", BASH("ls; make"), ROOT, "allow", "allow: Bash(ls:*)", NULL},
    {"Bash", BASH("ls | wc -l"), ROOT, "ask", "default", NULL},
    {"Bash", BASH("echo a && kubectl apply -f x.yaml"), ROOT, "ask", "ask: Bash(kubectl apply:*)",
     NULL},
    /* the most restrictive sub-command wins, whatever its place */
    {"Bash", BASH("git push --force x; kubectl apply -f y"), ROOT, "deny",
     "deny: Bash(git push --force:*)", NULL},
    {"Bash", BASH("ls;"), ROOT, "allow", "allow: Bash(ls:*)", NULL},
    /* quotes: one command */
    {"Bash", BASH("echo \\\"a && b\\\""), ROOT, "allow", "allow: Bash(echo:*)", NULL},
    {"Bash", BASH("echo 'a; git push --force x'"), ROOT, "allow", "allow: Bash(echo:*)", NULL},
    {"Bash", BASH("echo \\\"a \\\\\\\" && git push --force x\\\""), ROOT, "allow",
     "allow: Bash(echo:*)", NULL},
    {"Bash", BASH("echo a \\\\&& git push --force x"), ROOT, "deny", NULL, NULL},
    /* redirections are not separators */
    {"Bash", BASH("ls 2>&1"), ROOT, "allow", "allow: Bash(ls:*)", NULL},
    {"Bash", BASH("ls &> out.txt"), ROOT, "allow", "allow: Bash(ls:*)", NULL},
    {"Bash", BASH("ls >| out.txt"), ROOT, "allow", "allow: Bash(ls:*)", NULL},
    /* Bash: what hides the command that runs is opaque. */
    {"Bash", BASH("echo $(whoami)"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("echo \\\"$(whoami)\\\""), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("echo `id`"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("cat <(ls)"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("ls >(cat)"), ROOT, "ask", "opaque", NULL},
    /* single quotes make them text */
    {"Bash", BASH("echo '$(whoami) `id`'"), ROOT, "allow", "allow: Bash(echo:*)", NULL},
    {"Bash", BASH("eval ls"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("exec ls"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("source env.sh"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH(". env.sh"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("bash -c 'ls'"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("bash -ec 'ls'"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("/bin/sh -c ls"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("bash build.sh"), ROOT, "allow", "allow: Bash(bash:*)", NULL},
    {"Bash", BASH("ls | xargs rm"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("env FOO=1 ls"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("env"), ROOT, "ask", "default", NULL},
    {"Bash", BASH("sudo ls"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("/usr/bin/sudo ls"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("nohup ls"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("timeout 5 ls"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("nice ls"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("command ls"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("builtin echo"), ROOT, "ask", "opaque", NULL},
    {"Bash", BASH("ls && eval x"), ROOT, "ask", "opaque", NULL},
    /* an unterminated quote hides where the command ends */
    {"Bash", BASH("echo 'a"), ROOT, "ask", "opaque", NULL},
    /* a deny rule still denies */
    {"Bash", BASH("echo $(id) && git push --force y"), ROOT, "deny",
     "deny: Bash(git push --force:*)", NULL},
    {"Bash", BASH("git push --force $(git branch)"), ROOT, "deny", "deny: Bash(git push --force:*)",
     NULL},
    /* an ask rule keeps its own name */
    {"Bash", BASH("kubectl apply -f $(ls)"), ROOT, "ask", "ask: Bash(kubectl apply:*)", NULL},
    /* Bash: the network category. */
    /* the network category (ask) beats an explicit allow */
    {"Bash", BASH("curl https://example.com"), ROOT, "ask", "network", NULL},
    {"Bash", BASH("/usr/bin/wget x"), ROOT, "ask", "network", NULL},
    {"Bash", BASH("ssh host"), ROOT, "ask", "network", NULL},
    {"Bash", BASH("git push origin main"), ROOT, "ask", "network", NULL},
    {"Bash", BASH("git -C sub fetch"), ROOT, "ask", "network", NULL},
    {"Bash", BASH("git -c a=b pull"), ROOT, "ask", "network", NULL},
    {"Bash", BASH("git clone https://x"), ROOT, "ask", "network", NULL},
    {"Bash", BASH("git ls-remote origin"), ROOT, "ask", "network", NULL},
    {"Bash", BASH("gh pr list"), ROOT, "ask", "network", NULL},
    {"Bash", BASH("ls && nc -l 80"), ROOT, "ask", "network", NULL},
    {"Bash", BASH("git status"), ROOT, "allow", "allow: Bash(git status)", NULL},
    {"Bash", BASH("echo curl"), ROOT, "allow", "allow: Bash(echo:*)", NULL},
    /* File tools: globs, inside and outside the repository. */
    {"Edit", FILE(ROOT "/src/a.c"), ROOT, "allow", "allow: Edit", "Edit(src/a.c)"},
    {"Edit", FILE(ROOT "/.github/workflows/ci.yml"), ROOT, "ask", "ask: Edit(.github/workflows/**)",
     "Edit(.github/workflows/ci.yml)"},
    {"Edit", FILE(ROOT "/.github/workflows/sub/x.yml"), ROOT, "ask",
     "ask: Edit(.github/workflows/**)", NULL},
    /* Edit rules cover every editing tool */
    {"Write", FILE(ROOT "/.github/workflows/ci.yml"), ROOT, "ask",
     "ask: Edit(.github/workflows/**)", "Write(.github/workflows/ci.yml)"},
    {"MultiEdit", FILE(ROOT "//src/./b.c"), ROOT, "allow", "allow: Edit", "MultiEdit(src/b.c)"},
    {"NotebookEdit", "{\"notebook_path\": \"" ROOT "/nb.ipynb\"}", ROOT, "allow", "allow: Edit",
     "NotebookEdit(nb.ipynb)"},
    {"Edit", FILE(ROOT "/.github/ci.yml"), ROOT, "allow", "allow: Edit", NULL},
    {"Edit", FILE(ROOT "/.github/workflows"), ROOT, "allow", "allow: Edit", NULL},
    /* relative paths against the repository */
    {"Edit", FILE("./src/a.c"), ROOT, "allow", "allow: Edit", "Edit(src/a.c)"},
    {"Edit", FILE("src/../.github/workflows/ci.yml"), ROOT, "ask", NULL, NULL},
    /* a name without a slash matches in any directory */
    {"Edit", FILE(ROOT "/config/prod.env"), ROOT, "deny", "deny: Edit(*.env)", NULL},
    {"Edit", FILE(ROOT "/.env"), ROOT, "deny", "deny: Edit(*.env)", "Edit(.env)"},
    {"Write", FILE(ROOT "/a/b/c/.env"), ROOT, "deny", "deny: Edit(*.env)", NULL},
    {"Edit", FILE(ROOT "/a.envx"), ROOT, "allow", "allow: Edit", NULL},
    /* outside the repository */
    {"Edit", FILE("/etc/passwd"), ROOT, "deny", "deny: Edit(//etc/**)", "Edit(/etc/passwd)"},
    {"Edit", FILE("/tmp/x"), ROOT, "deny", "outside_repo", "Edit(/tmp/x)"},
    {"Edit", FILE("../x"), ROOT, "deny", "outside_repo", "Edit(/work/x)"},
    {"Edit", FILE(ROOT "/../repo2/x"), ROOT, "deny", "outside_repo", "Edit(/work/repo2/x)"},
    {"Edit", FILE("/work/repository/x"), ROOT, "deny", "outside_repo", NULL},
    {"Edit", FILE(ROOT "/../../../../../etc/x"), ROOT, "deny", "deny: Edit(//etc/**)", NULL},
    /* an outside path is matched by absolute patterns only: *.env does not see it */
    {"Edit", FILE("/tmp/a.env"), ROOT, "deny", "outside_repo", NULL},
    /* ~ patterns match nothing */
    {"Edit", FILE("/root/.bashrc"), ROOT, "deny", "outside_repo", NULL},
    {"Edit", FILE(ROOT "/.bashrc"), ROOT, "allow", "allow: Edit", NULL},
    {"Edit", FILE("~/.bashrc"), ROOT, "deny", "outside_repo", "Edit(~/.bashrc)"},
    /* no repository: every path is outside */
    {"Edit", FILE(ROOT "/src/a.c"), NULL, "deny", "outside_repo", "Edit(/work/repo/src/a.c)"},
    {"Edit", FILE("src/a.c"), NULL, "deny", "outside_repo", "Edit(src/a.c)"},
    /* a missing path: not known to be inside */
    {"Edit", "{}", ROOT, "deny", "outside_repo", "Edit()"},
    {"Edit", "{\"file_path\": 7}", ROOT, "deny", "outside_repo", "Edit()"},
    /* reading tools: outside_repo does not apply */
    {"Read", FILE("/etc/shadow"), ROOT, "deny", "deny: Read(//etc/shadow)", NULL},
    {"Read", FILE("/etc/hosts"), ROOT, "allow", "allow: Read", "Read(/etc/hosts)"},
    {"Glob", "{\"pattern\": \"*.c\"}", ROOT, "allow", "allow: Read", "Glob(.)"},
    {"Grep", "{\"pattern\": \"x\", \"path\": \"src\"}", ROOT, "allow", "allow: Read", "Grep(src)"},
    /* Web and MCP tools. */
    {"WebFetch", "{\"url\": \"https://docs.python.org/3/\"}", ROOT, "ask", "network",
     "WebFetch(https://docs.python.org/3/)"},
    {"WebSearch", "{\"query\": \"jansson\"}", ROOT, "ask", "network", "WebSearch(jansson)"},
    {"mcp__github__create_issue", "{\"title\": \"x\"}", ROOT, "allow", "allow: mcp__github",
     "mcp__github__create_issue"},
    {"mcp__github__delete_repo", "{}", ROOT, "deny", "deny: mcp__github__delete_repo", NULL},
    {"mcp__slack__post", "{}", ROOT, "ask", "ask: mcp__slack__*", NULL},
    {"mcp__githubx__y", "{}", ROOT, "ask", "default", NULL},
    {"Task", "{\"prompt\": \"x\"}", ROOT, "ask", "default", "Task"},
    {NULL, NULL, ROOT, "ask", "default", ""},
    /* Precedence. */
    /* deny beats allow */
    {"Edit", FILE(ROOT "/.env"), ROOT, "deny", "deny: Edit(*.env)", NULL},
    /* ask beats allow */
    {"Edit", FILE(ROOT "/.github/workflows/ci.yml"), ROOT, "ask", "ask: Edit(.github/workflows/**)",
     NULL},
    /* a category's ask beats an explicit allow */
    {"Bash", BASH("curl x"), ROOT, "ask", "network", NULL},
    /* an explicit allow beats the default ask */
    {"Bash", BASH("npm test"), ROOT, "allow", "allow: Bash(npm test:*)", NULL},
    {"Bash", BASH("npm ci"), ROOT, "ask", "default", NULL},
};

START_TEST(decisions_under_p)
{
    RUN(P, under_p);
}
END_TEST

START_TEST(bash_network)
{
    static const struct dcase open[] = {
        /* network "allow": a network command is allowed by the category, after the rules */
        {"Bash", BASH("curl x"), ROOT, "allow", "network", NULL},
        {"Bash", BASH("git push --force x"), ROOT, "deny", "deny: Bash(git push --force:*)", NULL},
        {"Bash", BASH("ls"), ROOT, "deny", "default", NULL},
        {"Bash", BASH("ls && curl x"), ROOT, "deny", "default", NULL},
        {"Bash", BASH("wget x"), ROOT, "allow", "allow: Bash(wget:*)", NULL},
    };

    RUN("{\"network\": \"allow\", \"default\": \"deny\", \"allow\": [\"Bash(wget:*)\"],"
        " \"deny\": [\"Bash(git push --force:*)\"]}",
        open);
    RUN("{\"network\": \"deny\", \"default\": \"allow\", \"allow\": [\"Bash(curl:*)\"]}",
        ((const struct dcase[]){{"Bash", BASH("curl x"), ROOT, "deny", "network", NULL},
                                {"Bash", BASH("ls"), ROOT, "allow", "default", NULL}}));
}
END_TEST

START_TEST(file_pattern_forms)
{
    static const struct dcase c[] = {
        {"Edit", FILE(ROOT "/docs/a.md"), ROOT, "deny", "deny: Edit(docs/**)", NULL},
        {"Edit", FILE(ROOT "/docs/x/y/z.md"), ROOT, "deny", "deny: Edit(docs/**)", NULL},
        {"Edit", FILE(ROOT "/src/docs/a.md"), ROOT, "ask", "default", NULL},
        {"Edit", FILE(ROOT "/a/b"), ROOT, "deny", "deny: Edit(/a/**/b)", NULL},
        {"Edit", FILE(ROOT "/a/x/y/b"), ROOT, "deny", "deny: Edit(/a/**/b)", NULL},
        {"Edit", FILE(ROOT "/a/x/y/bc"), ROOT, "ask", "default", NULL},
        {"Edit", FILE(ROOT "/lib/a.c"), ROOT, "deny", "deny: Edit(./lib/*.c)", NULL},
        {"Edit", FILE(ROOT "/lib/sub/a.c"), ROOT, "ask", "default", NULL},
        {"Edit", FILE(ROOT "/m1.h"), ROOT, "deny", "deny: Edit(m?.h)", NULL},
        {"Edit", FILE(ROOT "/x/m22.h"), ROOT, "ask", "default", NULL},
        /* a bare name also covers a directory of that name */
        {"Edit", FILE(ROOT "/web/node_modules/p/i.js"), ROOT, "deny", "deny: Edit(node_modules)",
         NULL},
        {"Edit", FILE(ROOT "/build/out.o"), ROOT, "deny", "deny: Edit(build/)", NULL},
        {"Edit", FILE(ROOT "/build"), ROOT, "ask", "default", NULL},
        {"Edit", FILE("/opt/tools/bin/t"), ROOT, "allow", "allow: Edit(//opt/tools/**)", NULL},
        {"Edit", FILE("/opt/tools"), ROOT, "allow", "outside_repo", NULL},
        {"Edit", FILE(ROOT "/inside.txt"), ROOT, "allow", "allow: Edit(//work/repo/inside.txt)",
         NULL},
    };

    RUN("{\"outside_repo\": \"ask\", \"deny\": [\"Edit(docs/**)\", \"Edit(/a/**/b)\","
        " \"Edit(./lib/*.c)\", \"Edit(m?.h)\", \"Edit(node_modules)\", \"Edit(build/)\"],"
        " \"allow\": [\"Edit(//opt/tools/**)\","
        " \"Edit(//work/repo/inside.txt)\"]}",
        ((const struct dcase[]){
            {"Edit", FILE("/opt/tools/bin/t"), ROOT, "ask", "outside_repo", NULL}}));
    RUN("{\"outside_repo\": \"deny\", \"deny\": [\"Edit(docs/**)\", \"Edit(/a/**/b)\","
        " \"Edit(./lib/*.c)\", \"Edit(m?.h)\", \"Edit(node_modules)\", \"Edit(build/)\"],"
        " \"allow\": [\"Edit(//opt/tools/**)\", \"Edit(//work/repo/inside.txt)\"]}",
        ((const struct dcase[]){
            /* outside_repo "deny" applies before any allow rule */
            {"Edit", FILE("/opt/tools/bin/t"), ROOT, "deny", "outside_repo", NULL}}));
    RUN("{\"outside_repo\": \"allow\", \"deny\": [\"Edit(docs/**)\", \"Edit(/a/**/b)\","
        " \"Edit(./lib/*.c)\", \"Edit(m?.h)\", \"Edit(node_modules)\", \"Edit(build/)\"],"
        " \"allow\": [\"Edit(//opt/tools/**)\", \"Edit(//work/repo/inside.txt)\"]}",
        c);
}
END_TEST

START_TEST(web_and_mcp)
{
    static const struct dcase open[] = {
        {"WebFetch", "{\"url\": \"https://example.com/x\"}", ROOT, "allow",
         "allow: WebFetch(domain:example.com)", NULL},
        {"WebFetch", "{\"url\": \"http://api.Example.COM:8080/x?y\"}", ROOT, "allow",
         "allow: WebFetch(domain:example.com)", NULL},
        /* no rule: the network category ("allow" here) decides, before the default */
        {"WebFetch", "{\"url\": \"https://notexample.com/\"}", ROOT, "allow", "network", NULL},
        {"WebFetch", "{\"url\": \"https://a.evil.example.com:443/\"}", ROOT, "deny",
         "deny: WebFetch(domain:evil.example.com)", NULL},
        {"WebFetch", "{\"url\": \"https://me@EVIL.example.com./\"}", ROOT, "deny",
         "deny: WebFetch(domain:evil.example.com)", NULL},
        {"WebFetch", "{\"url\": \"https://x.org/exact\"}", ROOT, "allow",
         "allow: WebFetch(https://x.org/exact)", NULL},
        {"WebFetch", "{}", ROOT, "allow", "network", "WebFetch()"},
        {"WebSearch", "{\"query\": \"c11 style\"}", ROOT, "allow", "allow: WebSearch(c11 style)",
         NULL},
        {"WebSearch", "{\"query\": \"c11\"}", ROOT, "allow", "network", NULL},
        /* a specifier on another tool never matches */
        {"mcp__db__query", "{\"sql\": \"select 1\"}", ROOT, "deny", "default", NULL},
    };

    RUN("{\"default\": \"deny\", \"network\": \"allow\","
        " \"allow\": [\"WebFetch(domain:example.com)\", \"WebFetch(https://x.org/exact)\","
        " \"WebSearch(c11 style)\", \"mcp__db__query(select 1)\"],"
        " \"deny\": [\"WebFetch(domain:evil.example.com)\"]}",
        open);
    /* network "deny" beats an allow rule; an ask rule names itself under network "ask". */
    RUN("{\"network\": \"deny\", \"allow\": [\"WebFetch(domain:example.com)\"]}",
        ((const struct dcase[]){
            {"WebFetch", "{\"url\": \"https://example.com/\"}", ROOT, "deny", "network", NULL}}));
    RUN("{\"ask\": [\"WebFetch\"], \"deny\": [\"WebFetch(domain:evil.example.com)\"]}",
        ((const struct dcase[]){
            {"WebFetch", "{\"url\": \"https://evil.example.com/\"}", ROOT, "deny",
             "deny: WebFetch(domain:evil.example.com)", NULL},
            {"WebFetch", "{\"url\": \"https://ok.com/\"}", ROOT, "ask", "ask: WebFetch", NULL}}));
}
END_TEST

START_TEST(precedence)
{

    /* A deny rule beats a category that allows; an ask rule too. */
    RUN("{\"outside_repo\": \"allow\", \"deny\": [\"Edit(//tmp/secret)\"],"
        " \"ask\": [\"Write\"], \"default\": \"deny\"}",
        ((const struct dcase[]){
            {"Edit", FILE("/tmp/secret"), ROOT, "deny", "deny: Edit(//tmp/secret)", NULL},
            {"Write", FILE("/tmp/x"), ROOT, "ask", "ask: Write", NULL},
            {"Edit", FILE("/tmp/x"), ROOT, "allow", "outside_repo", NULL},
            {"Edit", FILE(ROOT "/x"), ROOT, "deny", "default", NULL},
            /* Write rules name only Write */
            {"Edit", FILE(ROOT "/y"), ROOT, "deny", "default", NULL}}));
    RUN("{\"default\": \"allow\"}",
        ((const struct dcase[]){{"Bash", BASH("ls"), ROOT, "allow", "default", NULL},
                                {"Edit", FILE("/tmp/x"), ROOT, "deny", "outside_repo", NULL},
                                {"Bash", BASH("ls $(pwd)"), ROOT, "ask", "opaque", NULL}}));
}
END_TEST

START_TEST(action_text_truncated)
{
    json_t *p = checked("{}");
    char cmd[2000];
    json_t *in;
    struct autonomy_decision d;

    memset(cmd, 'x', sizeof(cmd) - 1);
    cmd[sizeof(cmd) - 1] = '\0';
    in = json_pack("{s:s}", "command", cmd);
    autonomy_decide(p, "Bash", in, ROOT, &d);
    ck_assert_uint_eq(strlen(d.action_text), sizeof(d.action_text) - 1);
    ck_assert_str_eq(d.action_text + strlen(d.action_text) - 3, "...");
    ck_assert(strncmp(d.action_text, "Bash(xxx", 8) == 0);
    json_decref(in);
    json_decref(p);
}
END_TEST

START_TEST(defaults_filled)
{
    json_t *n = checked("{}");
    json_t *want = json_loads("{\"allow\": [], \"ask\": [], \"deny\": [], \"default\": \"ask\","
                              " \"outside_repo\": \"deny\", \"network\": \"ask\","
                              " \"approval_timeout_seconds\": 600, \"enabled\": true}",
                              0, NULL);

    ck_assert_msg(json_equal(n, want), "%s", json_dumps(n, JSON_SORT_KEYS));
    json_decref(n);
    json_decref(want);
    n = checked("{\"deny\": [\"Bash(rm:*)\"], \"default\": \"deny\", \"enabled\": false,"
                " \"approval_timeout_seconds\": 10, \"network\": \"allow\"}");
    want = json_loads("{\"allow\": [], \"ask\": [], \"deny\": [\"Bash(rm:*)\"],"
                      " \"default\": \"deny\", \"outside_repo\": \"deny\", \"network\": \"allow\","
                      " \"approval_timeout_seconds\": 10, \"enabled\": false}",
                      0, NULL);
    ck_assert_msg(json_equal(n, want), "%s", json_dumps(n, JSON_SORT_KEYS));
    json_decref(n);
    json_decref(want);
    json_decref(checked("{\"approval_timeout_seconds\": 86400}"));
    n = json_object();
    ck_assert_int_eq(autonomy_policy_check(n, NULL, NULL), 0);
    json_decref(n);
}
END_TEST

/* A policy that must be refused, with its exact message. */
static void refused(json_t *p, const char *msg)
{
    struct err err = {0};
    json_t *n = (json_t *)1;

    ck_assert_int_eq(autonomy_policy_check(p, &n, &err), -1);
    ck_assert_ptr_null(n);
    ck_assert_int_eq(err.code, ERR_INVALID);
    ck_assert_msg(strcmp(err.msg, msg) == 0, "got '%s', want '%s'", err.msg, msg);
    json_decref(p);
}

static void refused_json(const char *policy, const char *msg)
{
    json_t *p = json_loads(policy, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

    ck_assert_msg(p != NULL, "bad test JSON: %s", policy);
    refused(p, msg);
}

START_TEST(rejected_policies)
{
    char rule[1100];
    json_t *list;

    refused_json("[]", "autonomy policy must be a JSON object");
    refused_json("{\"allow\": [], \"foo\": 1}",
                 "unknown key 'foo' (known: allow, ask, deny, default, outside_repo, network, "
                 "approval_timeout_seconds, enabled)");
    refused_json("{\"allow\": \"Edit\"}", "allow: must be an array of rule strings");
    refused_json("{\"ask\": [\"Edit\", \"Read\", 3]}", "ask[2]: rule is not a string");
    refused_json("{\"ask\": [\"Edit\", \"Read\", \"Bash(ls\"]}",
                 "ask[2]: unbalanced parentheses in 'Bash(ls'");
    refused_json("{\"deny\": [\"Bash(ls))\"]}", "deny[0]: unbalanced parentheses in 'Bash(ls))'");
    refused_json("{\"deny\": [\"Bash)ls(\"]}", "deny[0]: unbalanced parentheses in 'Bash)ls('");
    refused_json("{\"deny\": [\"\"]}", "deny[0]: empty rule");
    refused_json("{\"allow\": [\"Ba sh\"]}",
                 "allow[0]: tool name may hold only letters, digits, '_', '-' and '*' in 'Ba sh'");
    refused_json("{\"allow\": [\"Bash.x(ls)\"]}",
                 "allow[0]: tool name may hold only letters, digits, '_', '-' and '*' in "
                 "'Bash.x(ls)'");
    refused_json("{\"allow\": [\"Bash(ls)x\"]}", "allow[0]: text after ')' in 'Bash(ls)x'");
    refused_json("{\"allow\": [\"Bash(ls) \"]}", "allow[0]: text after ')' in 'Bash(ls) '");
    refused_json("{\"allow\": [\"Bash(a)(b)\"]}", "allow[0]: text after ')' in 'Bash(a)(b)'");
    refused_json("{\"allow\": [\"Edit\", \"Bash()\"]}", "allow[1]: empty specifier in 'Bash()'");
    refused_json("{\"allow\": [\"(ls)\"]}", "allow[0]: missing tool name in '(ls)'");
    refused_json("{\"allow\": [\"Bash(\\u0000)\"]}", "allow[0]: rule holds a NUL byte");
    refused_json("{\"default\": \"maybe\"}", "default: must be \"allow\", \"ask\" or \"deny\"");
    refused_json("{\"outside_repo\": \"ALLOW\"}",
                 "outside_repo: must be \"allow\", \"ask\" or \"deny\"");
    refused_json("{\"network\": 1}", "network: must be \"allow\", \"ask\" or \"deny\"");
    refused_json("{\"approval_timeout_seconds\": 9}",
                 "approval_timeout_seconds: must be an integer from 10 to 86400");
    refused_json("{\"approval_timeout_seconds\": 86401}",
                 "approval_timeout_seconds: must be an integer from 10 to 86400");
    refused_json("{\"approval_timeout_seconds\": \"600\"}",
                 "approval_timeout_seconds: must be an integer from 10 to 86400");
    refused_json("{\"approval_timeout_seconds\": 600.5}",
                 "approval_timeout_seconds: must be an integer from 10 to 86400");
    refused_json("{\"enabled\": \"yes\"}", "enabled: must be true or false");
    ck_assert_int_eq(autonomy_policy_check(NULL, NULL, NULL), -1);

    /* 1000 bytes is the longest rule. */
    memcpy(rule, "Bash(", 5);
    memset(rule + 5, 'x', 994);
    memcpy(rule + 999, ")", 2);
    {
        json_t *p = json_pack("{s:[s]}", "allow", rule);
        char *txt = json_dumps(p, 0);

        json_decref(checked(txt));
        free(txt);
        json_decref(p);
    }
    memcpy(rule + 999, "x)", 3);
    refused(json_pack("{s:[s]}", "allow", rule), "allow[0]: rule longer than 1000 bytes");

    /* 500 rules per list. */
    list = json_array();
    for (int i = 0; i < 500; i++)
        json_array_append_new(list, json_string("Edit"));
    {
        json_t *p = json_pack("{s:O}", "deny", list);

        ck_assert_int_eq(autonomy_policy_check(p, NULL, NULL), 0);
        json_decref(p);
    }
    json_array_append_new(list, json_string("Edit"));
    refused(json_pack("{s:o}", "deny", list), "deny: more than 500 rules");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("autonomy");
    TCase *tc = tcase_create("autonomy");

    tcase_add_test(tc, decisions_under_p);
    tcase_add_test(tc, bash_network);
    tcase_add_test(tc, file_pattern_forms);
    tcase_add_test(tc, web_and_mcp);
    tcase_add_test(tc, precedence);
    tcase_add_test(tc, action_text_truncated);
    tcase_add_test(tc, defaults_filled);
    tcase_add_test(tc, rejected_policies);
    suite_add_tcase(s, tc);
    return testsuite_run(s);
}
