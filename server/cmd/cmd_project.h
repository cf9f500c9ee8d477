/* `droverd project add`: create or update a project from the command line. Main thread. */
#ifndef DROVER_CMD_PROJECT_H
#define DROVER_CMD_PROJECT_H

/* argv[0] is "project". Returns the process exit code. */
int cmd_project(int argc, char **argv);

#endif
