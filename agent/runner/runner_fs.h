/*
 * Directories drover-agent creates where other users may have been first (the default
 * workspace is under /tmp): created private, or refused when someone else's or a symlink.
 * Main thread.
 */
#ifndef DROVER_AGENT_RUNNER_FS_H
#define DROVER_AGENT_RUNNER_FS_H

#include <sys/types.h>

#include "core/err.h"

/*
 * `path` as a directory of ours with exactly `mode`: created when missing; refused (-1, with
 * why) when it is a symlink, not a directory, or owned by another user. Never follows a
 * symlink at `path` itself.
 */
int runner_fs_private_dir(const char *path, mode_t mode, struct err *err);

#endif
