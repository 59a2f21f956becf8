/*
 * The closed loop's memory (docs/loop.md): which baseline is active and
 * where it came from, the one before it, the baselines staged for adoption,
 * the last retrain run's adoption status, and a bounded timeline of the
 * loop's events. Baseline files live in state_dir/baselines/<sha256>.json;
 * the rest in state_dir/loop.json, rewritten (atomically) at every change,
 * so a restart runs on the adopted baseline and shows the same history.
 *
 * This module holds no baseline in memory and knows nothing of the daemon:
 * the daemon parses, validates and swaps; this keeps the record.
 */
#ifndef DRIFTD_AGENT_ADOPT_H
#define DRIFTD_AGENT_ADOPT_H

#include "lib/sbuf.h"
#include "lib/sha256.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADOPT_EVENTS_MAX 1000

/* Where a baseline came from: the configuration's file, a retrain run's
 * artifact, or POST /v1/baseline. */
enum adopt_source { ADOPT_FROM_FILE, ADOPT_FROM_RUN, ADOPT_FROM_API };

struct adopt_entry {
    char sha256[SHA256_HEX_LEN + 1];
    enum adopt_source source;
    char path[4096];
    char run_url[512], correlation_id[64], model_version[128];
    uint64_t rows;
    size_t features;
    double at;        /* staged_at, or adopted_at for the active one */
    char *provenance; /* the file's "provenance" object as JSON text, or NULL */
};

struct adopt;

/* Records by model version (inputs[].version_field), counted by the
 * daemon: the first ADOPT_VERSIONS - 1 versions seen by name, the rest as
 * "other". */
#define ADOPT_VERSIONS 16
struct adopt_version {
    char name[64];
    uint64_t records;
};

/* The record kept under state_dir; NULL when out of memory. Nothing is
 * read until adopt_load. */
struct adopt *adopt_new(const char *state_dir, double (*now)(void));
void adopt_free(struct adopt *a);

/* Read state_dir/loop.json (none: an empty record). Returns 0, or -1 with
 * a message in err when the file exists but cannot be read or parsed (the
 * record then starts empty). */
int adopt_load(struct adopt *a, char *err, size_t errlen);
/* Write state_dir/loop.json; -1 with errno (also logged, rate-limited). */
int adopt_save(struct adopt *a);

/* The baseline of a sha256 kept in state_dir/baselines/, as a path the
 * caller frees. */
char *adopt_path_of(const struct adopt *a, const char *sha256);
/* Keep bytes as state_dir/baselines/<sha256>.json (write, fsync, rename),
 * then drop the oldest files beyond `keep` (never the active, previous or
 * staged ones). Returns 0, or -1 with errno. */
int adopt_store(struct adopt *a, const char *data, size_t len, const char *sha256, size_t keep);

/* Entries: the active (NULL before the first adopt_set_active), the one
 * it replaced, and the staged ones (oldest first). */
const struct adopt_entry *adopt_active(const struct adopt *a);
const struct adopt_entry *adopt_previous(const struct adopt *a);
size_t adopt_n_staged(const struct adopt *a);
const struct adopt_entry *adopt_staged(const struct adopt *a, size_t i);
/* The staged entry whose sha256 is sha or starts with it (at least 6 hex
 * digits), or NULL (none, or more than one). */
const struct adopt_entry *adopt_find_staged(const struct adopt *a, const char *sha);

/* Stage a copy of e (its provenance text copied too); one of the same
 * sha256 is replaced. 0 or -1 (out of memory). */
int adopt_stage(struct adopt *a, const struct adopt_entry *e);
/* Make a copy of e active, the active one becoming previous; a staged
 * entry of that sha256 leaves the staged list. 0 or -1. */
int adopt_set_active(struct adopt *a, const struct adopt_entry *e);

/* The sha256 of the configuration's baseline file when the active one was
 * adopted: a start that finds the configuration names other bytes takes
 * those (the operator changed it) instead of the adopted baseline. */
const char *adopt_config_sha(const struct adopt *a);
void adopt_set_config_sha(struct adopt *a, const char *sha256);

/* The loop's timeline: logged, and kept (the last ADOPT_EVENTS_MAX). kind
 * is one of dispatched, run_started, run_completed, baseline_staged,
 * baseline_adopted, baseline_rolled_back, adoption_failed. Any string
 * may be NULL. */
void adopt_event(struct adopt *a, const char *kind, const char *correlation_id, const char *sha256,
                 const char *run_url, const char *message);
/* {"events": [...]} newest first, at most limit. */
void adopt_events_json(const struct adopt *a, size_t limit, struct sbuf *out);

/* The adoption of the last run: status (adopted, staged, failed, pending)
 * and a message; the artifact's name and the run it came from. */
void adopt_set_status(struct adopt *a, const char *status, const char *message,
                      const char *artifact, const char *run_url, const char *correlation_id);
/* "adoption" and "artifact" members of /v1/status's retrain.run (without
 * braces, after a comma), or nothing before the first run. */
void adopt_run_json(const struct adopt *a, struct sbuf *out);
/* /v1/status's "baseline" object: sha256, rows, features, provenance,
 * source, adopted_at, previous, staged. */
void adopt_baseline_json(const struct adopt *a, struct sbuf *out);

/* Counters for /metrics: adoptions by result (adopted, failed,
 * rolled_back) and finished runs by conclusion. */
struct adopt_counts {
    uint64_t adopted, failed, rolled_back;
};
struct adopt_counts adopt_counts(const struct adopt *a);
void adopt_count(struct adopt *a, const char *result);
void adopt_count_run(struct adopt *a, const char *conclusion);
/* Finished runs: conclusion i of n (NULL past the end) and its count. */
const char *adopt_run_conclusion(const struct adopt *a, size_t i, uint64_t *count);

const char *adopt_source_name(enum adopt_source s);

#endif
