/*
 * The live page, GET / on the daemon (docs/api.md, "The live page"): one
 * HTML page rendered by the server from the status snapshot, the windows'
 * history, the closed loop's events and the last window's report, so that
 * it works without JavaScript; a small inline script only refreshes it
 * from the daemon. Inline CSS and SVG; no request leaves for anywhere
 * else (the Content-Security-Policy says so).
 */
#ifndef DRIFTD_AGENT_LIVE_H
#define DRIFTD_AGENT_LIVE_H

#include "agent/daemon.h"
#include "lib/sbuf.h"

/* Windows the page's charts show, newest last. */
#define LIVE_WINDOWS 200

/* Append the page of daemon d, as snapshot v shows it, to out. -1 when
 * out of memory. */
int live_page(const struct daemon *d, const struct daemon_snapshot *v, struct sbuf *out);

/* The Content-Security-Policy of the page: nothing loads; its own script
 * (by its hash) runs and may fetch from the daemon alone. */
const char *live_csp(void);

#endif
