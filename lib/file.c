#include "lib/file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *file_read_fd(int fd, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (size_t)st.st_size + 1;
    char *buf = malloc(cap + 1);
    if (buf == NULL)
        return NULL;
    for (;;) {
        if (n == cap) {
            char *p = realloc(buf, cap * 2 + 1);
            if (p == NULL) {
                free(buf);
                errno = ENOMEM;
                return NULL;
            }
            buf = p;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            errno = e;
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

char *file_read(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        errno = EISDIR;
        return NULL;
    }
    char *p = file_read_fd(fd, len);
    int e = errno;
    close(fd);
    errno = e;
    return p;
}

int file_rename_new(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    return rename(from, to);
}

static int write_all(int fd, const char *data, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        off += (size_t)w;
    }
    return 0;
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, int flags)
{
    /* A device or a pipe (`-o /dev/null`, `-o /dev/stdout`) is written to,
     * never replaced: renaming over /dev/null made it a regular file. */
    struct stat st;
    if (!(flags & FILE_NOREPLACE) && lstat(path, &st) == 0 && !S_ISREG(st.st_mode) &&
        !S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode)) {
        int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0)
            return -1;
        int rc = write_all(fd, data, len);
        int e = errno;
        if (close(fd) != 0 && rc == 0) {
            rc = -1;
            e = errno;
        }
        errno = e;
        return rc;
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    char *dircopy = strdup(path);
    int rc = -1, e = 0;
    if (tmp == NULL || dircopy == NULL) {
        e = ENOMEM;
        goto out;
    }
    if (flags & FILE_NOREPLACE) {
        snprintf(tmp, plen + 32, "%s.tmp", path);
    } else {
        snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
        /* A stale temp file of an earlier process with our pid goes; O_EXCL
         * and O_NOFOLLOW then make sure we write a file of our own. */
        unlink(tmp);
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        e = errno;
        goto out;
    }
    if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 ||
        (!(flags & FILE_NOSYNC) && fsync(fd) != 0)) {
        e = errno;
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (close(fd) != 0 ||
        ((flags & FILE_NOREPLACE) ? file_rename_new(tmp, path) : rename(tmp, path)) != 0) {
        e = errno;
        unlink(tmp);
        goto out;
    }
    int dfd = flags & FILE_NOSYNC ? -1 : open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    free(tmp);
    free(dircopy);
    errno = e;
    return rc;
}

int file_mkdir_p(const char *path, mode_t parent_mode, mode_t last_mode)
{
    char *p = strdup(path);
    if (p == NULL)
        return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, parent_mode) != 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            errno = e;
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, last_mode) != 0 && errno != EEXIST ? -1 : 0;
    int e = errno;
    free(p);
    errno = e;
    return rc;
}
