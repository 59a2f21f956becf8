#include "lib/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static bool journal;
static enum log_level max_level = LOG_INFO;
static log_hook_fn hook;

void log_init(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    struct stat st;

    journal = false;
    /* JOURNAL_STREAM is "dev:inode" of the stream; trust it only if it is
     * still our stderr (a child of a journald service may inherit it). */
    if (js != NULL && fstat(STDERR_FILENO, &st) == 0) {
        unsigned long long dev, ino;
        if (sscanf(js, "%llu:%llu", &dev, &ino) == 2 && dev == (unsigned long long)st.st_dev &&
            ino == (unsigned long long)st.st_ino)
            journal = true;
    }
    const char *dbg = getenv("DRIFTD_DEBUG");
    if (dbg != NULL && strcmp(dbg, "1") == 0)
        max_level = LOG_DEBUG;
    setvbuf(stderr, NULL, _IOLBF, 0);
}

void log_set_level(enum log_level max)
{
    max_level = max;
}

void log_set_hook(log_hook_fn fn)
{
    hook = fn;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"emerg", "alert",  "crit", "error",
                                        "warn",  "notice", "info", "debug"};
    char line[2048];
    int n;
    va_list ap;

    if (level > max_level)
        return;
    if (hook != NULL) {
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        hook(level, line);
        return;
    }
    if (journal) {
        n = snprintf(line, sizeof(line), "<%d>", (int)level);
    } else {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = snprintf(line, sizeof(line),
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                     names[level]);
    }
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    /* One record per line: newlines inside a message would split it. */
    for (size_t i = (size_t)n; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}

bool log_limit_pass(struct log_limit *l, unsigned long long *held)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    if (now < l->next) {
        l->held++;
        return false;
    }
    l->next = now + (l->every > 0 ? l->every : 10);
    *held = l->held;
    l->held = 0;
    return true;
}

void log_limited(struct log_limit *l, enum log_level level, const char *fmt, ...)
{
    unsigned long long held;
    if (!log_limit_pass(l, &held))
        return;
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (held > 0)
        log_msg(level, "%s (%llu more like this held back)", msg, held);
    else
        log_msg(level, "%s", msg);
}
