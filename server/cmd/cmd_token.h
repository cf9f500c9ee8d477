/* `droverd token create|revoke`: API tokens from the command line. Main thread. */
#ifndef DROVER_CMD_TOKEN_H
#define DROVER_CMD_TOKEN_H

/* argv[0] is "token". Returns the process exit code. */
int cmd_token(int argc, char **argv);

#endif
