/*
 * droverd serve: parse the settings, migrate, build the service environment (queue options,
 * forge secrets, caches, the agent pool), and run the transport until SIGTERM. This is where
 * the layers are wired together, once: every dependency is passed down in a context, none is
 * installed in a global. Main thread.
 */
#ifndef DROVER_CMD_SERVE_H
#define DROVER_CMD_SERVE_H

int cmd_serve(int argc, char **argv);

#endif
