/*
 * The stdin source: standard input read as it comes, through the stream
 * reader of the configured format; its end finishes the last record.
 */
#include "agent/in_stdin.h"

#include "lib/log.h"

#include <errno.h>
#include <unistd.h>

/* Read what is there; at the end, finish and stop listening. */
static void stdin_read(evutil_socket_t fd, short what, void *arg)
{
    struct source *s = arg;
    char buf[65536];
    (void)what;
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        reader_finish(s->reader);
        event_del(s->ctx);
        log_info("stdin: end of input (%llu records, %llu rejected)",
                 (unsigned long long)s->records, (unsigned long long)s->rejected);
        source_ended(s);
        return;
    }
    source_stream_feed(s, buf, (size_t)n);
}

static int stdin_start(struct source *s)
{
    if (!source_stream_open(s))
        return -1;
    struct event *ev = event_new(s->base, STDIN_FILENO, EV_READ | EV_PERSIST, stdin_read, s);
    if (ev == NULL)
        return -1;
    s->ctx = ev;
    return event_add(ev, NULL);
}

static void stdin_stop(struct source *s)
{
    if (s->ctx != NULL)
        event_free(s->ctx);
    s->ctx = NULL;
}

/* Column maps are the reader's: a reload remaps them. */
static void stdin_reload(struct source *s)
{
    if (s->reader != NULL)
        reader_remap_columns(s->reader);
}

const struct source_ops in_stdin_ops = {
    .type = "stdin",
    .start = stdin_start,
    .stop = stdin_stop,
    .reload = stdin_reload,
    .destroy = stdin_stop,
};
