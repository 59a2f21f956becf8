/*
 * The daemon's JSON configuration. One table lists every key with its
 * type, default, whether a reload may change it, and its help; the
 * loader, `driftd validate` and docs/configuration.md all come from it.
 */
#ifndef DRIFTD_AGENT_CONFIG_H
#define DRIFTD_AGENT_CONFIG_H

#include "agent/drift.h"
#include "lib/errors.h"
#include "stats/baseline.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum input_type { INPUT_HTTP, INPUT_TAIL, INPUT_STDIN, INPUT_NATS };
enum input_start { START_END, START_BEGINNING };
enum input_validate { VALIDATE_FULL, VALIDATE_SAMPLED };

struct input_conf {
    enum input_type type;
    char *path;
    int format; /* enum reader_format, or -1: from the path */
    enum input_start start;
    enum input_validate validate;
    int delimiter;       /* index of config_delimiter, or -1: ',' (HTTP: from the header) */
    char *version_field; /* the record's model version (on_version), or NULL */
    /* nats: the servers, the JetStream stream, subject and durable consumer
     * (${model} expanded at start), credentials, the consumer's limits */
    char **servers;
    size_t n_servers;
    char *stream, *subject, *durable, *token_file, *creds_file;
    uint64_t max_ack_pending;
    double ack_wait_seconds; /* 0: the window's length plus a margin */
};

enum adopt_mode { ADOPT_MANUAL, ADOPT_ON_SUCCESS, ADOPT_ON_VERSION, ADOPT_OFF };

struct adopt_conf {
    enum adopt_mode mode;
    char *artifact, *file;
    uint64_t max_bytes, keep;
    bool allow_feature_changes;
    double version_share;
};

/* The CSV separator of an inputs[].delimiter value (",", ";", "tab",
 * "pipe", ":" in that order), or 0 for -1 (none set); and the index of a
 * value as written in a query (?delimiter=;), or -1 when it is none. */
char config_delimiter(int index);
int config_delimiter_index(const char *value);

enum sink_type { SINK_LOG, SINK_WEBHOOK, SINK_SLACK, SINK_ALERTMANAGER };

struct header_conf {
    char *name, *value;
};

struct sink_conf {
    enum sink_type type;
    char *url, *url_file, *ca_file;
    struct header_conf *headers;
    size_t n_headers;
    double resend_seconds, timeout_seconds, max_age;
};

struct template_conf {
    char *name, *value;
};

struct github_conf {
    bool enabled; /* retrain.github present */
    char *api_url, *repository, *workflow, *ref, *token_file, *api_version, *ca_file;
    struct template_conf *inputs;
    size_t n_inputs;
    double timeout_seconds;
};

/* Every path of the file (the table's rows of type path) is resolved at
 * load: an absolute one stays as written, a relative one is joined to dir,
 * the configuration file's directory, not the current directory; a
 * relative secret file (token_file, url_file) is taken from
 * $CREDENTIALS_DIRECTORY when that directory holds it. So the fields hold
 * the paths to open, the same whatever directory the daemon runs in. */
struct config {
    char *path;          /* file it came from */
    char *dir;           /* path's directory, absolute when getcwd() can tell */
    char *baseline_text; /* baseline as the file wrote it (messages) */
    char *model, *baseline, *state_dir, *listen, *token_file;
    uint64_t max_body_bytes;
    uint64_t listen_max_connections; /* 0: from RLIMIT_NOFILE */
    double listen_header_timeout, listen_idle_timeout;
    struct input_conf *inputs;
    size_t n_inputs;
    struct drift_opts drift;
    uint64_t window_records, window_min_records, window_sample;
    uint64_t history_keep; /* windows in GET /v1/history */
    double window_seconds;
    uint64_t resolve_after;
    double repeat_seconds;
    struct sink_conf *sinks;
    size_t n_sinks;
    struct github_conf github;
    uint64_t retrain_consecutive;
    double retrain_cooldown, retrain_follow;
    bool retrain_dry_run;
    struct adopt_conf adopt;
    /* replicas of one model on NATS JetStream: the lease and the shared state */
    double lease_seconds;
    char *kv_lease_bucket, *kv_state_bucket;
};

/* Error list: every problem found, each naming the file and key path. */

/* Load and validate the file for run, validate and a reload: besides the
 * table's checks, `baseline` must be given and name a file that can be
 * read. Returns 0, or -1 with every error in errs: a syntax error as
 * "FILE:LINE:COL: invalid JSON: expected X, found Y" followed by the line
 * and a caret under the column; an unknown key as "FILE:LINE:COL: KEY:
 * unknown key; did you mean `KEY`?" when a key of the table is close. */
int config_load(const char *path, struct config *c, struct errlist *errs);
/* Parse text (path names it in messages, and relative paths in it resolve
 * from path's directory as config_load's do): the table's checks alone,
 * `baseline` not required. */
int config_parse(const char *text, size_t len, const char *path, struct config *c,
                 struct errlist *errs);
/* Append the error for a baseline that cannot be read (errnum: the errno
 * of the open or read): "FILE: baseline: cannot read "PATH": REASON", or
 * for a relative name "cannot read "NAME" (relative to DIR): REASON" with
 * DIR the configuration's directory, naming the configuration file and the
 * key, and for a missing file the command that writes one (with the
 * resolved path). */
void config_baseline_error(const struct config *c, int errnum, struct errlist *errs);
void config_free(struct config *c);

/* For a reload: every key the table marks restart-only (reload: no) keeps
 * its running value. Where next's value differs from running's, logs
 * "reload: KEY changed; it takes effect at the next restart" (an array
 * once, whichever of its elements' keys changed). The values are exchanged,
 * not copied: next gets running's (the same allocation, so pointers into
 * it stay valid once next is the running configuration) and running gets
 * next's, so config_free on each stays correct. */
void config_keep_restart_keys(struct config *running, struct config *next);

/* Keys of `features` that must name baseline features and tests that must
 * suit each feature's kind; appends errors. */
void config_check_baseline(const struct drift_opts *o, const struct stats_baseline *b,
                           const char *path, struct errlist *errs);

/* For `driftd check --config`: load only the drift options (the whole file
 * is validated); prints errors, returns 0 or -1. */
int config_load_drift_opts(const char *path, struct drift_opts *o);
/* Same check as config_check_baseline, printed; path NULL: nothing to check. */
int config_check_features(const char *path, const struct drift_opts *o,
                          const struct stats_baseline *b);

/* Read a secret (token, URL) from a file: the first line, trimmed. A
 * relative name (the configuration's fields are resolved already) is
 * looked up in $CREDENTIALS_DIRECTORY first, then in cfgpath's directory.
 * The value is
 * never put in a message; on error one is added to errs (naming `what` and
 * the file) and NULL returned. The result is in secret pages
 * (alerts/secret.h): free it with secret_free. */
char *config_read_secret(const char *name, const char *what, struct errlist *errs,
                         const char *cfgpath);

/* Check that every secret file the configuration names can be read. */
void config_check_secrets(const struct config *c, struct errlist *errs);

/* Settings that work but expose something: a listen address other than
 * loopback without auth.token_file, a secret file readable by group or
 * others, a plain http:// GitHub api_url off loopback. Appends one message
 * per finding, prefixed with the file, to warns; the configuration stays
 * valid. config_log_risks logs them with log_warn (start and reload). */
void config_check_risks(const struct config *c, struct errlist *warns);
void config_log_risks(const struct config *c);

/* Print the table of keys as Markdown (docs/configuration.md). */
void config_print_reference(FILE *out);

/* Parse a duration: a number of seconds or a string with a unit
 * (ms, s, m, h, d): "5m", "6h". Returns 0 or -1. */
int config_parse_duration(const char *s, double *out);

#endif
