/*
 * The systemd side of sd_notify, for test_notify.sh: bind an AF_UNIX
 * datagram socket where $NOTIFY_SOCKET will point, and print every line of
 * every datagram as "MS PID SEQ LINE": MS is CLOCK_MONOTONIC milliseconds
 * (the clock MONOTONIC_USEC= uses), PID the sender's (SO_PASSCRED, as
 * systemd checks it), SEQ the datagram's number, so a test can tell which
 * lines came together. Exits 0 after the datagram that holds STOPPING=1, or
 * 1 after the timeout.
 *
 *   notify_listen ADDRESS [TIMEOUT_SECONDS]
 *
 * ADDRESS is a path, or @name for an abstract socket (a leading NUL and an
 * address length that counts only the name, as systemd binds it). Once bound
 * it prints "0 0 0 LISTENING" so a test knows it may start the daemon.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Milliseconds on the monotonic clock. */
static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Bind fd to a path or @abstract name; -1 with a message on failure. */
static int bind_address(int fd, const char *name)
{
    struct sockaddr_un sa;
    size_t len = strlen(name);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (len < 2 || len >= sizeof(sa.sun_path) || (name[0] != '/' && name[0] != '@')) {
        fprintf(stderr, "notify_listen: %s: want an absolute path or @name\n", name);
        return -1;
    }
    memcpy(sa.sun_path, name, len);
    if (name[0] == '@')
        sa.sun_path[0] = '\0';
    else
        unlink(name);
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    if (bind(fd, (struct sockaddr *)&sa, salen) != 0) {
        fprintf(stderr, "notify_listen: bind %s: %s\n", name, strerror(errno));
        return -1;
    }
    return 0;
}

/* Print each newline-separated line of one datagram; 1 when it says STOPPING=1. */
static int print_datagram(long long ms, long pid, unsigned seq, char *msg, size_t n)
{
    int stopping = 0;
    msg[n] = '\0';
    for (char *line = msg, *next; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (*line == '\0')
            continue;
        printf("%lld %ld %u %s\n", ms, pid, seq, line);
        if (strcmp(line, "STOPPING=1") == 0)
            stopping = 1;
    }
    fflush(stdout);
    return stopping;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: notify_listen PATH|@NAME [TIMEOUT_SECONDS]\n");
        return 2;
    }
    double timeout = argc == 3 ? strtod(argv[2], NULL) : 30;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("notify_listen: socket");
        return 2;
    }
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) != 0) {
        perror("notify_listen: SO_PASSCRED");
        return 2;
    }
    if (bind_address(fd, argv[1]) != 0)
        return 2;
    printf("0 0 0 LISTENING\n");
    fflush(stdout);

    long long deadline = now_ms() + (long long)(timeout * 1000);
    int rc = 1;
    unsigned seq = 0;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            fprintf(stderr, "notify_listen: timeout without STOPPING=1\n");
            break;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        char buf[4097];
        union {
            struct cmsghdr align;
            char space[CMSG_SPACE(sizeof(struct ucred))];
        } ctl;
        struct iovec iov = {buf, sizeof(buf) - 1};
        struct msghdr mh = {0};
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = ctl.space;
        mh.msg_controllen = sizeof(ctl.space);
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            perror("notify_listen: recvmsg");
            break;
        }
        long pid = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                struct ucred cred;
                memcpy(&cred, CMSG_DATA(c), sizeof(cred));
                pid = (long)cred.pid;
            }
        if (print_datagram(now_ms(), pid, ++seq, buf, (size_t)n)) {
            rc = 0;
            break;
        }
    }
    if (argv[1][0] == '/')
        unlink(argv[1]);
    close(fd);
    return rc;
}
