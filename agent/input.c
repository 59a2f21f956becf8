#include "agent/input.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Read everything from fd into a malloc'd buffer (sized from fstat when
 * the fd is a regular file, so big files are not copied while growing). */
static char *slurp(int fd, size_t *len)
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
    *len = n;
    return buf;
}

int input_open(struct input *in, const char *path)
{
    memset(in, 0, sizeof(*in));
    if (strcmp(path, "-") == 0) {
        in->name = "<stdin>";
        if ((in->owned = slurp(STDIN_FILENO, &in->len)) == NULL) {
            fprintf(stderr, "driftd: <stdin>: %s\n", strerror(errno));
            return -1;
        }
        in->data = in->owned;
        return 0;
    }
    in->name = path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "driftd: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        fprintf(stderr, "driftd: %s: is a directory\n", path);
        close(fd);
        return -1;
    }
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (m != MAP_FAILED) {
            in->map = m;
            in->data = m;
            in->len = (size_t)st.st_size;
            close(fd);
            return 0;
        }
    }
    in->owned = slurp(fd, &in->len);
    int e = errno;
    close(fd);
    if (in->owned == NULL) {
        fprintf(stderr, "driftd: %s: %s\n", path, strerror(e));
        return -1;
    }
    in->data = in->owned;
    return 0;
}

void input_close(struct input *in)
{
    if (in->map != NULL)
        munmap(in->map, in->len);
    free(in->owned);
    memset(in, 0, sizeof(*in));
}

char *read_file(const char *path, size_t *len)
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
    size_t n = 0;
    char *p = slurp(fd, &n);
    int e = errno;
    close(fd);
    errno = e;
    if (p != NULL && len != NULL)
        *len = n;
    return p;
}

int write_file_atomic(const char *path, const char *data, size_t len)
{
    return write_file_atomic_mode(path, data, len, 0644);
}

int write_file_atomic_mode(const char *path, const char *data, size_t len, mode_t mode)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    char *dircopy = strdup(path);
    if (tmp == NULL || dircopy == NULL) {
        free(tmp);
        free(dircopy);
        errno = ENOMEM;
        return -1;
    }
    snprintf(tmp, plen + 16, "%s.tmp.%ld", path, (long)getpid());
    /* A stale temp file of an earlier process with our pid goes; O_EXCL
     * and O_NOFOLLOW then make sure we write a file of our own. */
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    int rc = -1, e = 0;
    if (fd < 0 || fchmod(fd, mode) != 0) {
        e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        goto out;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            e = errno;
            close(fd);
            unlink(tmp);
            goto out;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        e = errno;
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        goto out;
    }
    int dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
