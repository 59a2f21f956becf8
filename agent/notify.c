#include "agent/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct notify {
    int fd;
    struct sockaddr_un addr;
    socklen_t addrlen;
};

struct notify *notify_new(void)
{
    const char *path = getenv("NOTIFY_SOCKET");
    size_t len;

    if (path == NULL || (path[0] != '/' && path[0] != '@') || (len = strlen(path)) < 2)
        return NULL;
    struct notify *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL;
    if (len >= sizeof(n->addr.sun_path)) {
        free(n);
        return NULL;
    }
    n->addr.sun_family = AF_UNIX;
    memcpy(n->addr.sun_path, path, len);
    /* Abstract socket: a leading NUL, and the length counts only the name,
     * not the whole struct (systemd compares the exact address). */
    if (path[0] == '@')
        n->addr.sun_path[0] = '\0';
    n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (n->fd < 0) {
        free(n);
        return NULL;
    }
    return n;
}

void notify_free(struct notify *n)
{
    if (n == NULL)
        return;
    close(n->fd);
    free(n);
}

int notify_send(struct notify *n, const char *msg)
{
    if (n == NULL)
        return 0;
    ssize_t r;
    do
        r = sendto(n->fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&n->addr, n->addrlen);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : 0;
}

int notify_status(struct notify *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    if (n == NULL)
        return 0;
    memcpy(msg, "STATUS=", 7);
    va_start(ap, fmt);
    vsnprintf(msg + 7, sizeof(msg) - 7, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    return notify_send(n, msg);
}

uint64_t notify_watchdog_usec(void)
{
    const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
    if (us == NULL)
        return 0;
    if (pid != NULL && strtol(pid, NULL, 10) != (long)getpid())
        return 0;
    char *end;
    unsigned long long v = strtoull(us, &end, 10);
    return *end == '\0' ? (uint64_t)v : 0;
}
