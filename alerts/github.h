/*
 * Retraining through GitHub Actions (docs/alerts.md, "Retraining through
 * GitHub Actions"; docs/integrations.md, "GitHub Actions"): a workflow_dispatch
 * POST with the documented headers, spooled and retried by the outbox with
 * GitHub's rate-limit rules, then the dispatched run followed until it
 * completes. The token is added when the request is built: it is never
 * spooled, logged or shown.
 */
#ifndef DRIFTD_ALERTS_GITHUB_H
#define DRIFTD_ALERTS_GITHUB_H

#include "alerts/alert.h"
#include "alerts/artifact.h"
#include "alerts/http_client.h"
#include "alerts/outbox.h"
#include "lib/sbuf.h"

#include <stdbool.h>
#include <stdint.h>

struct github_input {
    const char *name, *template;
};

struct github_settings {
    const char *api_url, *repository, *workflow, *ref, *token, *api_version, *ca_file;
    const struct github_input *inputs;
    size_t n_inputs;
    double timeout, follow_seconds, max_age;
    bool dry_run;
};

/* Values of the ${...} templates for one dispatch. */
/* The template variables of the dispatch inputs, listed once:
 * X(name, whether the default inputs carry it). struct github_vars has a
 * member of each name; the configuration's help, checks and defaults are
 * made from this list too. */
#define GITHUB_TEMPLATE_VARS(X)                                                                    \
    X(model, true)                                                                                 \
    X(drifted_features, true)                                                                      \
    X(drift_share, true)                                                                           \
    X(window_end, true)                                                                            \
    X(correlation_id, true)                                                                        \
    X(severity, false)

#define GITHUB_VAR_MEMBER(name, by_default) const char *name;
struct github_vars {
    GITHUB_TEMPLATE_VARS(GITHUB_VAR_MEMBER)
};
#undef GITHUB_VAR_MEMBER

struct github_state {
    char result[16]; /* "", ok, failed, retrying, dry_run */
    long http_status;
    char message[512]; /* GitHub's own message on failure */
    char run_url[512];
    char run_status[32], run_conclusion[32];
    char correlation_id[64];
    uint64_t run_id;
    uint64_t ok, failed, dry_runs;
};

struct github;

/* event(arg, kind, state) tells of a failed dispatch or a finished run.
 * Lines are logged through lib/log.h. */
struct github *github_new(const struct github_settings *s, struct outbox *ob,
                          struct http_client *http, struct event_base *base, double (*now)(void),
                          void (*event)(void *arg, enum alert_kind kind,
                                        const struct github_state *st),
                          void *arg);
void github_free(struct github *g);
/* New settings (reload); the queue and the run followed are kept. */
int github_configure(struct github *g, const struct github_settings *s);

/* Expand the templates and send (or, in dry_run, log) the dispatch.
 * Returns 0 when it is on its way (spooled or logged), -1 otherwise. */
int github_dispatch(struct github *g, const struct github_vars *v);

const struct github_state *github_state(const struct github *g);
void github_restore(struct github *g, const struct github_state *st);

/* Call fn(arg, state) whenever the followed run's run_status or
 * run_conclusion changes: "requested" once GitHub accepted the dispatch,
 * then queued, in_progress, completed (with its conclusion) as polling
 * sees them. NULL fn: no hook. For the daemon's event timeline. */
void github_set_run_hook(struct github *g, void (*fn)(void *arg, const struct github_state *st),
                         void *arg);

/* Fetch member (e.g. "baseline.json") of the artifact named artifact_name
 * of run run_id (docs/integrations.md, "The run's baseline artifact"),
 * with the token and headers of the dispatch; max_bytes bounds the zip and
 * the member each. done(arg, result) is called once, from the loop, never
 * before this returns; the result and its data live until done returns
 * (copy what you keep). One fetch at a time. Returns 0 when started; -1
 * with the reason in err (dry_run, no token or repository, a fetch already
 * running, out of memory), and done is not called. */
int github_fetch_artifact(struct github *g, uint64_t run_id, const char *artifact_name,
                          size_t max_bytes, const char *member, artifact_done_fn done, void *arg,
                          char *err, size_t errlen);

/* Is a fetch running? */
bool github_fetch_running(const struct github *g);

/* "${model}" etc. expanded; unknown names are an error (-1, name in bad). */
int github_expand(const char *tmpl, const struct github_vars *v, struct sbuf *out, char *bad,
                  size_t badlen);

#endif
