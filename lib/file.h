/*
 * Files as the daemon and the CLI need them: read whole, written
 * atomically and durably, directories made with their parents. Every
 * function returns -1 (or NULL) with errno on failure; none prints.
 */
#ifndef DRIFTD_LIB_FILE_H
#define DRIFTD_LIB_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Everything readable from fd into a malloc'd, NUL-terminated buffer (sized
 * from fstat for a regular file, so a big file is not copied while the
 * buffer grows). */
char *file_read_fd(int fd, size_t *len);
/* A whole file (not a directory: EISDIR); len may be NULL. */
char *file_read(const char *path, size_t *len);

/* file_write_atomic's flags. */
enum {
    /* Never replace path: fail with EEXIST when it exists (the outbox's
     * spool names are unique; a taken one means another writer). The temp
     * file is then path.tmp, created with O_EXCL and never reused. */
    FILE_NOREPLACE = 1,
    /* No fsync: a file that may be lost in a crash, never half-written
     * (a cache that is rebuilt when missing). */
    FILE_NOSYNC = 2,
};
/* Write data to path atomically and durably: a temp file in the same
 * directory, fsync, rename, fsync of the directory. The file gets mode
 * whatever the umask; neither the temp file nor path is written through a
 * symlink (a link planted there is replaced, not followed). A path that is
 * a device or a FIFO (/dev/null, /dev/stdout) is written to in place. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, int flags);

/* rename(2) that never replaces `to` (EEXIST); on file systems without
 * RENAME_NOREPLACE, a plain rename (callers' names are unique there). */
int file_rename_new(const char *from, const char *to);

/* mkdir -p: missing parents get parent_mode, the last component
 * last_mode; directories that exist are left as they are. */
int file_mkdir_p(const char *path, mode_t parent_mode, mode_t last_mode);

#endif
