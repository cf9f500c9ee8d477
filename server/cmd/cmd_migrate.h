/* `droverd migrate`: apply (or count) the pending migrations compiled into droverd. Main thread. */
#ifndef DROVER_CMD_MIGRATE_H
#define DROVER_CMD_MIGRATE_H

/* argv[0] is "migrate". Returns the process exit code. */
int cmd_migrate(int argc, char **argv);

#endif
