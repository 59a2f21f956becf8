/*
 * The sd_notify protocol, spoken directly (it is documented as stable for
 * standalone use): a datagram of newline-separated KEY=VALUE to the unix
 * socket in $NOTIFY_SOCKET (a leading '@' names an abstract socket).
 */
#ifndef DRIFTD_AGENT_NOTIFY_H
#define DRIFTD_AGENT_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

struct notify;

/* From the environment; NULL when not run by systemd (all calls no-ops). */
struct notify *notify_new(void);
void notify_free(struct notify *n);

/* Send one message ("READY=1", "STATUS=..."); returns 0 or -1. */
int notify_send(struct notify *n, const char *msg);
int notify_status(struct notify *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Watchdog interval from $WATCHDOG_USEC (when $WATCHDOG_PID is unset or
 * ours), in microseconds; 0 when no watchdog is wanted. */
uint64_t notify_watchdog_usec(void);

#endif
