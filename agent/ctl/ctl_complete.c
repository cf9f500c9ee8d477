/* droverctl's shell completion scripts. Single-threaded. */
#include "ctl_complete.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

/* Values of the options that take one of a fixed set (the API's own vocabularies). */
static const struct {
    const char *opt, *values;
} ctl_complete_values[] = {
    {"--state", "backlog in_progress needs_input ready_to_test completed failed cancelled"},
    {"--status", "initializing idle busy draining offline"},
    {"--scope", "developer operator admin agent"},
    {"--forge", "git gitea gitlab github"},
    {"--format", "generic slack"},
};

/* Print the distinct "--option" words of `usage`, and --help and --json, space-separated. */
static void ctl_complete_opts(FILE *f, const char *usage)
{
    const char *seen[64];
    size_t nseen = 0;

    for (const char *p = usage; (p = strstr(p, "--")) != NULL;) {
        size_t len = 2;
        bool dup = false;

        while (isalnum((unsigned char)p[len]) || p[len] == '-')
            len++;
        for (size_t i = 0; i < nseen && !dup; i++)
            dup = strncmp(seen[i], p, len) == 0 && !isalnum((unsigned char)seen[i][len]) &&
                  seen[i][len] != '-';
        if (len > 2 && !dup && nseen < sizeof(seen) / sizeof(seen[0])) {
            seen[nseen++] = p;
            fprintf(f, "%.*s ", (int)len, p);
        }
        p += len;
    }
    if (!strstr(usage, "--json"))
        fputs("--json ", f);
    fputs("--help", f);
}

static bool ctl_complete_group_seen(const struct ctl_complete_cmd *cmds, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(cmds[j].group, cmds[i].group) == 0)
            return true;
    return false;
}

static void ctl_complete_bash(FILE *f, const struct ctl_complete_cmd *cmds, size_t n)
{
    fputs("# droverctl completion (bash): source <(droverctl completion bash)\n"
          "_droverctl() {\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
          "    local i=1 group='' sub='' gi=0 opts\n"
          "    # The global options come first; --url and --token take a value.\n"
          "    while [ $i -lt $COMP_CWORD ]; do\n"
          "        case ${COMP_WORDS[i]} in\n"
          "        --url | --token | --token-file) i=$((i + 2)) ;;\n"
          "        -*) i=$((i + 1)) ;;\n"
          "        *) break ;;\n"
          "        esac\n"
          "    done\n"
          "    case $prev in\n",
          f);
    for (size_t i = 0; i < sizeof(ctl_complete_values) / sizeof(ctl_complete_values[0]); i++)
        fprintf(f, "    %s) COMPREPLY=($(compgen -W '%s' -- \"$cur\")); return 0 ;;\n",
                ctl_complete_values[i].opt, ctl_complete_values[i].values);
    fputs("    --url | --token | --token-file) return 0 ;;\n"
          "    esac\n"
          "    if [ $i -ge $COMP_CWORD ]; then\n"
          "        COMPREPLY=($(compgen -W '",
          f);
    for (size_t i = 0; i < n; i++)
        if (!ctl_complete_group_seen(cmds, i))
            fprintf(f, "%s ", cmds[i].group);
    fputs("completion --url --token --token-file --json --help' -- \"$cur\"))\n"
          "        return 0\n"
          "    fi\n"
          "    group=${COMP_WORDS[i]} gi=$i\n"
          "    [ $((gi + 1)) -lt $COMP_CWORD ] && sub=${COMP_WORDS[gi+1]}\n"
          "    case $group in\n"
          "    completion) [ $COMP_CWORD -eq $((gi + 1)) ] && COMPREPLY=($(compgen -W 'bash zsh' "
          "-- \"$cur\")); return 0 ;;\n",
          f);
    for (size_t i = 0; i < n; i++) {
        if (ctl_complete_group_seen(cmds, i))
            continue;
        fprintf(f, "    %s)\n", cmds[i].group);
        if (cmds[i].sub) {
            fputs("        if [ $COMP_CWORD -eq $((gi + 1)) ]; then\n"
                  "            COMPREPLY=($(compgen -W '",
                  f);
            for (size_t j = i; j < n; j++)
                if (strcmp(cmds[j].group, cmds[i].group) == 0)
                    fprintf(f, "%s ", cmds[j].sub);
            fputs("' -- \"$cur\"))\n            return 0\n        fi\n        case $sub in\n", f);
            for (size_t j = i; j < n; j++) {
                if (strcmp(cmds[j].group, cmds[i].group) != 0)
                    continue;
                fprintf(f, "        %s) opts='", cmds[j].sub);
                ctl_complete_opts(f, cmds[j].usage);
                fputs("' ;;\n", f);
            }
            fputs("        *) return 0 ;;\n        esac\n        ;;\n", f);
        } else {
            fputs("        opts='", f);
            ctl_complete_opts(f, cmds[i].usage);
            fputs("'\n        ;;\n", f);
        }
    }
    fputs("    *) return 0 ;;\n"
          "    esac\n"
          "    [[ $cur == -* ]] && COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
          "    return 0\n"
          "}\n"
          "complete -F _droverctl droverctl\n",
          f);
}

int ctl_complete_print(FILE *f, const char *shell, const struct ctl_complete_cmd *cmds, size_t n)
{
    if (strcmp(shell, "bash") == 0) {
        ctl_complete_bash(f, cmds, n);
        return 0;
    }
    if (strcmp(shell, "zsh") == 0) {
        /* zsh runs the bash function through its bashcompinit layer: one definition of what
         * completes, for both shells. */
        fputs("#compdef droverctl\n"
              "# droverctl completion (zsh): source <(droverctl completion zsh)\n"
              "(( $+functions[compdef] )) || { autoload -U +X compinit && compinit; }\n"
              "autoload -U +X bashcompinit && bashcompinit\n",
              f);
        ctl_complete_bash(f, cmds, n);
        return 0;
    }
    return -1;
}
