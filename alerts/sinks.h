/*
 * The HTTP sinks (docs/alerts.md, "Webhook", "Slack", "Alertmanager"):
 * webhook (a JSON body), Slack (incoming webhook: text + blocks) and
 * Prometheus Alertmanager (API v2: DataDrift and FeatureDrift alerts,
 * re-posted every resend_seconds while firing, resolved with endsAt). Each formats an event and
 * hands the body to the outbox; the outbox owns delivery and retries.
 */
#ifndef DRIFTD_ALERTS_SINKS_H
#define DRIFTD_ALERTS_SINKS_H

#include "alerts/alert.h"
#include "alerts/outbox.h"
#include "lib/sbuf.h"

#include <event2/event.h>

enum http_sink_type { HTTP_SINK_WEBHOOK, HTTP_SINK_SLACK, HTTP_SINK_ALERTMANAGER };

struct http_sink_conf {
    enum http_sink_type type;
    const char *name; /* outbox target name, e.g. "webhook#1" */
    const char *url;  /* resolved (url_file already read); a secret for Slack */
    const struct http_header *headers;
    size_t n_headers;
    const char *ca_file;
    double timeout, resend_seconds, max_age;
    const char *generator_url; /* Alertmanager generatorURL: driftd's /v1/status */
};

struct http_sink;

/* A sink registered with the outbox under conf->name. The outbox target's
 * context is the sink: free it only after the outbox (or never while the
 * outbox may still send for it). */
struct http_sink *http_sink_new(const struct http_sink_conf *conf, struct outbox *ob,
                                struct event_base *base, double (*now)(void));
void http_sink_free(struct http_sink *s);

/* Reload: take conf (same name) in place. The sink keeps its outbox target,
 * its spooled entries and an Alertmanager firing set, so a reload makes no
 * new sink. Returns 0, or -1 (out of memory) with the old settings kept. */
int http_sink_configure(struct http_sink *k, const struct http_sink_conf *conf);

/* Reload without this sink's name: it stops re-posting and forgets what was
 * firing; entries already spooled for it are still sent with its settings.
 * http_sink_configure brings it back. */
void http_sink_retire(struct http_sink *k);
const char *http_sink_name(const struct http_sink *k);

/* The alert_sink_ops to add to alerts_add_sink with the sink as ctx. */
extern const struct alert_sink_ops http_sink_ops;

/* Body builders, exposed for tests. id: the notification id (alert_new_id)
 * that receivers deduplicate on. */
void webhook_body(const struct alert_event *ev, const char *id, struct sbuf *out);
void slack_body(const struct alert_event *ev, const char *id, struct sbuf *out);

#endif
