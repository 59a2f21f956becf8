/*
 * Logging to stderr. Under journald ($JOURNAL_STREAM names our stderr) each
 * line starts with a <N> syslog priority so the journal keeps the level;
 * elsewhere lines carry a UTC timestamp and the level name.
 */
#ifndef DRIFTD_LIB_LOG_H
#define DRIFTD_LIB_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERR = 3, LOG_WARNING = 4, LOG_NOTICE = 5, LOG_INFO = 6, LOG_DEBUG = 7 };

/* Decide the line format once, from the environment. */
void log_init(void);
/* Lines above this level are dropped (default LOG_INFO; DRIFTD_DEBUG=1: debug). */
void log_set_level(enum log_level max);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Tests only: every line not dropped by the level goes to hook (the
 * message, without timestamp or priority) instead of stderr; NULL restores
 * stderr. */
typedef void (*log_hook_fn)(enum log_level level, const char *msg);
void log_set_hook(log_hook_fn hook);

/* A log line that may repeat many times a second (a flood of refused
 * connections, a full disk): at most one per `every` seconds is written,
 * followed by how many were held back since the last one. */
struct log_limit {
    double every; /* seconds; 0 means 10 */
    double next;  /* monotonic time of the next line allowed */
    unsigned long long held;
};
void log_limited(struct log_limit *l, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The limit alone, for a caller that writes the line itself: true when a
 * line may go out now, with *held set to how many were held back before it
 * (and the count restarted). */
bool log_limit_pass(struct log_limit *l, unsigned long long *held);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
