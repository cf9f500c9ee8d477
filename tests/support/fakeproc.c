/* Fake servers as child processes. Test processes only. */
#include "fakeproc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t fakeproc_start(const char *script, const char *token, int *port)
{
    const char *src = getenv("DROVER_SOURCE_DIR");
    char path[1024], line[64] = "";
    int p[2];
    pid_t pid;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", src ? src : ".", script);
    if (pipe(p) != 0)
        exit(1);
    pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        execlp("python3", "python3", path, "--token", token, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    f = fdopen(p[0], "r");
    if (!f || !fgets(line, sizeof(line), f) || sscanf(line, "PORT=%d", port) != 1) {
        fprintf(stderr, "the fake server %s did not start\n", path);
        exit(1);
    }
    fclose(f);
    return pid;
}

void fakeproc_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}
