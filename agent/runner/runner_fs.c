/* Private directories (see runner_fs.h). Main thread. */
#include "runner_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int runner_fs_private_dir(const char *path, mode_t mode, struct err *err)
{
    struct stat st;
    int fd, rc = -1;

    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return err_set(err, ERR_INVALID, "cannot create directory %s: %s", path, strerror(errno));
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
        return err_set(err, ERR_INVALID, "%s is a symlink: refusing to follow it", path);
    /* O_NOFOLLOW | O_DIRECTORY: a planted symlink (to a directory or not) is refused here,
     * and the checks below are on the very directory we opened. */
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, ERR_INVALID, "%s is not a directory of ours (%s)", path,
                       errno == ELOOP ? "a symlink" : strerror(errno));
    if (fstat(fd, &st) < 0) {
        err_set(err, ERR_INVALID, "cannot stat %s: %s", path, strerror(errno));
        goto out;
    }
    if (st.st_uid != geteuid()) {
        err_set(err, ERR_INVALID,
                "%s belongs to uid %u, not to this user (uid %u): refusing to use a directory "
                "another user created",
                path, (unsigned)st.st_uid, (unsigned)geteuid());
        goto out;
    }
    if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0) {
        err_set(err, ERR_INVALID, "cannot make %s private: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}
