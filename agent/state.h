/*
 * The daemon's state under state_dir (agent/state.c): state.json, written
 * atomically, with the window numbering, the global counters, each
 * source's counters and position, the alerts' and the retraining's state
 * and the last evaluation; the lock that makes the directory one daemon's;
 * and the marks that keep counters from going back after a kill -9. The
 * daemon hands in what is saved (struct state_parts); nothing here sees
 * the daemon itself.
 */
#ifndef DRIFTD_AGENT_STATE_H
#define DRIFTD_AGENT_STATE_H

#include "agent/source.h"
#include "alerts/alert.h"
#include "alerts/retrain.h"
#include "lib/sha256.h"

#include <stdbool.h>
#include <stdint.h>

struct state;

/* The daemon's own counters. */
struct state_counts {
    uint64_t next_window_id, windows_evaluated, sampled_total;
    uint64_t consecutive_drift; /* resumed here, kept by the retraining */
    double last_eval_at;
};

/* What a save writes and a load resumes; the pointers are the daemon's. */
struct state_parts {
    struct state_counts *counts;
    struct source *const *sources;
    size_t n_sources;
    struct alerts *alerts;
    struct retrain *retrain; /* or NULL */
    char **last_json;        /* the last evaluation's JSON, or NULL */
    double (*now)(void);
};

/* The state of dir (not yet read or locked); NULL out of memory. */
struct state *state_new(const char *dir);
/* Frees; the lock goes with the process's descriptor. */
void state_free(struct state *st);

/* Make the directory this process's (-1, logged, when another driftd
 * holds it). */
int state_lock(struct state *st);
/* Resume the counters (from their marks after an unclean stop), the
 * alerts' state, each source's counters and position, the last
 * evaluation. A missing or foreign file starts afresh (0). */
int state_load(struct state *st, const struct state_parts *p);
/* Resume the retraining's state (the file's "retrain" member, then
 * retrain.json). */
void state_load_retrain(struct state *st, struct retrain *rt);
/* The state a model's replicas share (agent/cluster.c): the window
 * numbering and counters, the alerts', the retraining's, and the sha256 of
 * the baseline in use (baseline_json: its object, {"sha256": ...} and where
 * it came from), as one JSON object. */
void state_shared_json(const struct state_parts *p, const char *baseline_json, struct sbuf *out);
/* Resume from a shared state: the counters (never backwards), the alerts'
 * and the retraining's state. The baseline's sha256 it names is copied to
 * sha (empty when none). -1 when text is not one. */
/* The baseline a shared state names: sha256, and the run that built it
 * (run_url, correlation_id; empty when it came from elsewhere). -1 when
 * text is not a shared state. */
int state_shared_baseline(const char *text, size_t len, char sha[SHA256_HEX_LEN + 1], char *run_url,
                          size_t url_len, char *corr, size_t corr_len);
int state_shared_load(const struct state_parts *p, const char *text, size_t len,
                      char sha[SHA256_HEX_LEN + 1]);
/* Write state.json (exact marks when stopping). 0, or -1 with the error
 * kept for state_error. */
int state_save(struct state *st, const struct state_parts *p, bool stopping);
/* Save now, unless a save failed less than a second ago: for a counter
 * past its mark, and for a source's new position. 0 when saved. */
int state_reserve(struct state *st, const struct state_parts *p);
/* Whether the global counters passed their marks (a save is due before
 * they are shown). */
bool state_marks_passed(const struct state *st, const struct state_counts *c);
/* The id of the next window, reserved in the state file first. */
uint64_t state_next_window_id(struct state *st, const struct state_parts *p);
/* Record the outcome of writing a file under state_dir (state.json,
 * retrain.json): the error for state_error, a rate-limited log line. */
void state_write_outcome(struct state *st, const char *path, int rc, int err);
/* Why the state cannot be written, or NULL while it can. */
const char *state_error(const struct state *st);
/* state_dir/name, malloc'd (NULL out of memory). */
char *state_file(const struct state *st, const char *name);

#endif
