/* `droverd selftest`: one enqueue -> claim -> complete round trip through the queue. Main thread.
 */
#ifndef DROVER_CMD_SELFTEST_H
#define DROVER_CMD_SELFTEST_H

/* argv[0] is "selftest". Returns the process exit code. */
int cmd_selftest(int argc, char **argv);

#endif
