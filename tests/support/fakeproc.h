/*
 * The in-repo fake servers (the Python scripts in tests/fakes) as child processes: start one,
 * read the port it printed ("PORT=<n>" on its first line), stop it. Test processes only.
 */
#ifndef DROVER_FAKEPROC_H
#define DROVER_FAKEPROC_H

#include <sys/types.h>

/*
 * Run `python3 $DROVER_SOURCE_DIR/<script> --token <token>` and wait for its PORT line.
 * Returns the child's pid and sets *port; exits the test binary when the fake cannot start.
 */
pid_t fakeproc_start(const char *script, const char *token, int *port);

/* SIGTERM the fake and reap it; a no-op for pid <= 0. */
void fakeproc_stop(pid_t pid);

#endif
