#include "agent/memfile.h"

#include "agent/reader.h"
#include "lib/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int memfile_open(struct memfile *in, const char *path)
{
    memset(in, 0, sizeof(*in));
    if (strcmp(path, "-") == 0) {
        in->name = "<stdin>";
        if ((in->owned = file_read_fd(STDIN_FILENO, &in->len)) == NULL) {
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
    in->owned = file_read_fd(fd, &in->len);
    int e = errno;
    close(fd);
    if (in->owned == NULL) {
        fprintf(stderr, "driftd: %s: %s\n", path, strerror(e));
        return -1;
    }
    in->data = in->owned;
    return 0;
}

void memfile_close(struct memfile *in)
{
    if (in->map != NULL)
        munmap(in->map, in->len);
    free(in->owned);
    memset(in, 0, sizeof(*in));
}

char memfile_delimiter(const struct memfile *in, int fmt, char chosen)
{
    if (fmt != READER_CSV || chosen != 0)
        return chosen;
    char d = reader_sniff_delimiter(in->data, in->len, ',');
    if (d == 0)
        return ',';
    char one[2] = {d, 0};
    fprintf(stderr,
            "driftd: %s: the header has no ',' but '%s': read as %s-separated (--delimiter "
            "chooses)\n",
            in->name, d == '\t' ? "\\t" : one, d == '\t' ? "tab" : one);
    return d;
}
