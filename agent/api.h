/*
 * The HTTP API (agent/api.c): started by the command above the daemon,
 * served on the daemon's event loop, reading the daemon only through the
 * functions of daemon.h.
 */
#ifndef DRIFTD_AGENT_API_H
#define DRIFTD_AGENT_API_H

#include "agent/daemon.h"

#include <event2/event.h>

struct api;

/* Bind `listen` of the daemon's configuration and serve; writes the bound
 * address to state_dir/listen. NULL (logged) when it cannot. */
struct api *api_start(struct daemon *d, struct event_base *base);
/* The address as bound, host:port (port 0 in the configuration: the one
 * the kernel picked). */
const char *api_address(const struct api *a);
/* The limits of the configuration onto the server (after a reload). */
void api_configure(struct api *a);
/* The JSON of /v1/status and the Prometheus text of /metrics, from a
 * snapshot; a may be NULL (no connection counters: a test). */
void api_status_json(const struct api *a, const struct daemon_snapshot *v, struct sbuf *out);
void api_metrics_text(const struct api *a, const struct daemon_snapshot *v, struct sbuf *out);
/* Stop serving and free; NULL is fine. */
void api_stop(struct api *a);

#endif
