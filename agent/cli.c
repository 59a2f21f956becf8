/*
 * One-shot subcommands: baseline, check, version, help.
 */
#include "agent/cli.h"
#include "agent/bcache.h"

#include "lib/file.h"
#include "agent/build.h"
#include "agent/colmap.h"
#include "agent/config.h"
#include "agent/daemon.h"
#include "agent/dataset.h"
#include "agent/drift.h"
#include "agent/html.h"
#include "agent/memfile.h"
#include "agent/prefetch.h"
#include "agent/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_main[] =
    "driftd - data-drift monitoring for machine-learning models\n"
    "\n"
    "Usage:\n"
    "  driftd baseline --input FILE [--format csv|ndjson] [--delimiter C] [--schema FILE|JSON]\n"
    "                  [--max-sample N] [--seed S] [--label KEY=VALUE]... [--created-at TIME]\n"
    "                  --output BASELINE.json\n"
    "  driftd check    --baseline BASELINE.json | --config FILE  --input FILE\n"
    "                  [--format csv|ndjson] [--delimiter C] [--json] [--all-metrics] [--output "
    "REPORT.json]\n"
    "                  [--html REPORT.html]\n"
    "  driftd run      --config FILE     run the daemon (foreground; systemd Type=notify)\n"
    "  driftd validate --config FILE     check a configuration and its baseline\n"
    "  driftd version\n"
    "  driftd help [SUBCOMMAND]\n"
    "  driftd help config                every configuration key (Markdown)\n"
    "\n"
    "Exit status: 0 success / no dataset drift, 1 dataset drift (check),\n"
    "2 usage, input or configuration error.\n";

static const char usage_baseline[] =
    "Usage: driftd baseline --input FILE --output BASELINE.json [options]\n"
    "\n"
    "Build the training baseline: per-feature summaries and a reference sample.\n"
    "\n"
    "  -i, --input FILE      training data (CSV with a header, or NDJSON); - for stdin\n"
    "  -f, --format FMT      csv or ndjson (default: from the file name)\n"
    "  -d, --delimiter C     CSV field separator: one character, or tab (default: ',',\n"
    "                        or ';', tab or '|' when the header has no ',' but one of them)\n"
    "  -s, --schema SCHEMA   feature kinds, in a file or inline (a value starting\n"
    "                        with '{' is the JSON itself):\n"
    "                        {\"features\": {\"age\": \"numerical\", \"zip\": \"categorical\"}}\n"
    "                        (default: numerical when every value is a number; a\n"
    "                        column numerical but for a few values is warned about)\n"
    "  -n, --max-sample N    rows kept as the reference sample (default 50000)\n"
    "      --seed S          seed of the sampler (default 1); same input and seed\n"
    "                        give a byte-identical baseline\n"
    "  -o, --output FILE     where to write the baseline (- for stdout)\n"
    "  -l, --label KEY=VALUE a label recorded in the baseline's provenance\n"
    "                        (repeatable; KEY of A-Z a-z 0-9 _ . -), e.g.\n"
    "                        --label model_version=run-9001 --label git_sha=...\n"
    "      --created-at TIME record when the baseline was made, RFC 3339 in UTC\n"
    "                        (2026-12-04T10:00:00Z); default: $SOURCE_DATE_EPOCH\n"
    "                        when set, else no time, so the file stays reproducible\n"
    "  -h, --help            this help\n"
    "\n"
    "The baseline records its provenance: the input's path, SHA-256, size, rows\n"
    "and format, the sampler's settings, the driftd version, the time and the\n"
    "labels.\n";

static const char usage_check[] =
    "Usage: driftd check --baseline BASELINE.json --input FILE [options]\n"
    "       driftd check --config FILE --input FILE [options]\n"
    "\n"
    "Compare a data set with the baseline and report drift per feature.\n"
    "\n"
    "  -b, --baseline FILE   baseline written by 'driftd baseline' (default: the\n"
    "                        configuration's \"baseline\", with --config)\n"
    "  -i, --input FILE      current data (CSV or NDJSON); - for stdin\n"
    "  -f, --format FMT      csv or ndjson (default: from the file name)\n"
    "  -d, --delimiter C     CSV field separator: one character, or tab (default: ',',\n"
    "                        or ';', tab or '|' when the header has no ',' but one of them)\n"
    "  -c, --config FILE     daemon configuration: its \"features\" and \"drift\"\n"
    "                        sections choose tests, thresholds and corrections,\n"
    "                        and its \"baseline\" is used without --baseline\n"
    "  -j, --json            print the JSON report instead of a table\n"
    "  -a, --all-metrics     compute every applicable metric, not only the test\n"
    "  -o, --output FILE     also write the JSON report to FILE\n"
    "      --html FILE       also write the report as one self-contained HTML page\n"
    "                        (verdict, per-feature table and charts, details; inline\n"
    "                        CSS and SVG, no external request; the JSON's numbers)\n"
    "      --no-cache        neither read nor write BASELINE.json.cache, the baseline's\n"
    "                        samples kept beside it for the next check\n"
    "  -h, --help            this help\n"
    "\n"
    "Exit status: 0 no dataset drift, 1 dataset drift, 2 error.\n";

static const char usage_version[] = "Usage: driftd version\n\nPrint the version.\n";

static const char usage_help[] =
    "Usage: driftd help [SUBCOMMAND | config]\n"
    "\n"
    "Without an argument: the overview of the subcommands. With one of baseline,\n"
    "check, run, validate, version or help: its options (the same as\n"
    "'driftd SUBCOMMAND --help'). With config: every configuration key, its type,\n"
    "default, range and whether a reload applies it, as a Markdown table.\n";

static const char usage_run[] =
    "Usage: driftd run --config FILE\n"
    "\n"
    "Run the daemon in the foreground: read records from the configured inputs\n"
    "(HTTP, tail, stdin) into windows, compare each window with the baseline, send\n"
    "alerts (log, webhook, Slack, Alertmanager) and, when configured, ask a GitHub\n"
    "Actions workflow to retrain. It logs to stderr and speaks the systemd notify\n"
    "protocol (Type=notify, watchdog).\n"
    "\n"
    "  -c, --config FILE     the configuration (JSON); 'driftd help config' lists\n"
    "                        every key with its default and range, and\n"
    "                        'driftd validate --config FILE' checks one\n"
    "  -h, --help            this help\n"
    "\n"
    "Signals: SIGHUP reloads the configuration and the baseline (on an error the\n"
    "running ones stay); SIGTERM and SIGINT stop cleanly, saving the state.\n"
    "Environment: DRIFTD_GITHUB_TOKEN, the GitHub token when no token_file is set;\n"
    "STATE_DIRECTORY, the default state_dir; CREDENTIALS_DIRECTORY, where relative\n"
    "secret file names are looked up first.\n"
    "\n"
    "Exit status: 0 after a clean stop, 2 when the configuration, the baseline or\n"
    "the listening address cannot be used.\n";

static const char usage_validate[] =
    "Usage: driftd validate --config FILE\n"
    "\n"
    "Check a configuration the way 'driftd run' would load it, without starting\n"
    "anything: the JSON, every key and its range, the baseline file it names\n"
    "(and that the features the configuration mentions are in it), and that\n"
    "each secret file can be read, and that retrain.github has a token (its\n"
    "token_file or $DRIFTD_GITHUB_TOKEN) unless retrain.dry_run is true. Every\n"
    "error is printed, each naming its key;\n"
    "then a warning for each risky setting (warnings do not fail the check).\n"
    "\n"
    "  -c, --config FILE     the configuration to check; 'driftd help config'\n"
    "                        lists every key with its default and range\n"
    "  -h, --help            this help\n"
    "\n"
    "Exit status: 0 valid (prints \"FILE: ok\"), 2 invalid or unreadable.\n";

const char *cli_usage(const char *name)
{
    if (name == NULL)
        return usage_main;
    if (strcmp(name, "baseline") == 0)
        return usage_baseline;
    if (strcmp(name, "check") == 0)
        return usage_check;
    if (strcmp(name, "run") == 0)
        return usage_run;
    if (strcmp(name, "validate") == 0)
        return usage_validate;
    if (strcmp(name, "version") == 0)
        return usage_version;
    if (strcmp(name, "help") == 0)
        return usage_help;
    return NULL;
}

/* Parse a non-negative integer option value; prints and returns -1 on error. */
static int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min) {
        fprintf(stderr, "driftd: %s: expected an integer >= %llu, got \"%s\"\n", opt,
                (unsigned long long)min, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* The input format from --format or the file name. */
static int pick_format(const char *fmt, const char *path)
{
    if (fmt != NULL) {
        if (strcmp(fmt, "csv") == 0)
            return READER_CSV;
        if (strcmp(fmt, "ndjson") == 0 || strcmp(fmt, "jsonl") == 0)
            return READER_NDJSON;
        fprintf(stderr, "driftd: --format: expected csv or ndjson, got \"%s\"\n", fmt);
        return -1;
    }
    int f = reader_format_from_name(path);
    if (f < 0)
        fprintf(stderr,
                "driftd: %s: cannot tell the format from the name; use --format csv|ndjson\n",
                path);
    return f;
}

/* The plural ending of a count's noun: "1 feature", "2 features". */
static const char *plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

/* --delimiter: one character (not a quote or a line end), or tab. */
static int parse_delimiter(const char *s, char *out)
{
    if (strcmp(s, "tab") == 0 || strcmp(s, "\\t") == 0 || strcmp(s, "\t") == 0) {
        *out = '\t';
        return 0;
    }
    if (strlen(s) != 1 || *s == '"' || *s == '\n' || *s == '\r') {
        fprintf(stderr, "driftd: --delimiter: one character or tab, not \"%s\"\n", s);
        return -1;
    }
    *out = *s;
    return 0;
}

static int usage_error(const char *cmd)
{
    fprintf(stderr, "Try 'driftd %s --help'.\n", cmd);
    return 2;
}

/* Write text to path, or stdout for "-"; prints the error. */
static int write_output(const char *path, const char *data, size_t len)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            fprintf(stderr, "driftd: <stdout>: %s\n", strerror(errno));
            return -1;
        }
        return 0;
    }
    if (file_write_atomic(path, data, len, 0644, 0) != 0) {
        fprintf(stderr, "driftd: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The end of a command's options: no operand left, the required options
 * given (else `missing` is printed), the input's format known. -1 to go
 * on, else the exit status. */
static int options_done(const char *cmd, int argc, char **argv, bool given, const char *missing,
                        const char *format, const char *input, enum reader_format *fmt)
{
    if (optind < argc) {
        fprintf(stderr, "driftd %s: unexpected argument \"%s\"\n", cmd, argv[optind]);
        return usage_error(cmd);
    }
    if (!given) {
        fprintf(stderr, "driftd %s: %s\n", cmd, missing);
        return usage_error(cmd);
    }
    int f = pick_format(format, input);
    if (f < 0)
        return 2;
    *fmt = (enum reader_format)f;
    return -1;
}

/* The command line of `driftd baseline`. */
struct baseline_args {
    const char *input, *format, *schema, *output;
    uint64_t max_sample, seed;
    enum reader_format fmt;
    char delimiter; /* 0: from the header */
    /* The provenance begun from the options (labels, created_at), to be
     * completed by the build; the caller frees it unless it went to the
     * baseline. */
    struct stats_provenance *prov;
};

/* --label KEY=VALUE into a->prov; prints and returns -1 on error. */
static int label_option(struct baseline_args *a, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL) {
        fprintf(stderr, "driftd: --label: expected KEY=VALUE, got \"%s\"\n", arg);
        return -1;
    }
    size_t klen = (size_t)(eq - arg);
    if (!stats_label_key_valid(arg, klen)) {
        fprintf(stderr,
                "driftd: --label %s: the key \"%.*s\" is not a label key: it must be non-empty, "
                "of letters, digits, '_', '.' and '-'\n",
                arg, (int)klen, arg);
        return -1;
    }
    char *key = strndup(arg, klen);
    int rc = key != NULL ? stats_provenance_add_label(a->prov, key, eq + 1) : -1;
    if (rc > 0)
        fprintf(stderr, "driftd: --label: the key \"%s\" is given twice\n", key);
    else if (rc < 0)
        fprintf(stderr, "driftd: out of memory\n");
    free(key);
    return rc == 0 ? 0 : -1;
}

/* Latest second RFC 3339's four-digit year can write: 9999-12-31T23:59:59Z. */
#define TIME_MAX 253402300799ULL

/* The time the baseline records: --created-at, else $SOURCE_DATE_EPOCH
 * (the reproducible-builds convention), else none. Prints and returns -1
 * when the one given is not a valid time. */
static int created_at(struct baseline_args *a, const char *opt)
{
    char buf[32], why[160];
    if (opt != NULL) {
        if (!stats_time_check(opt, why, sizeof(why))) {
            fprintf(stderr, "driftd: --created-at: \"%s\": %s\n", opt, why);
            return -1;
        }
        return (a->prov->created_at = strdup(opt)) != NULL ? 0 : -1;
    }
    const char *env = getenv("SOURCE_DATE_EPOCH");
    if (env == NULL || *env == '\0')
        return 0;
    char *end;
    errno = 0;
    unsigned long long t = strtoull(env, &end, 10);
    struct tm tm;
    time_t tt = (time_t)t;
    if (errno != 0 || end == env || *end != '\0' || env[0] < '0' || env[0] > '9' || t > TIME_MAX ||
        gmtime_r(&tt, &tm) == NULL) {
        fprintf(stderr,
                "driftd: SOURCE_DATE_EPOCH: expected seconds since 1970-01-01T00:00:00Z (an "
                "integer from 0 to %llu), got \"%s\"\n",
                TIME_MAX, env);
        return -1;
    }
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return (a->prov->created_at = strdup(buf)) != NULL ? 0 : -1;
}

/* Read baseline's options into a; -1 to go on, else the exit status (0 after
 * --help, 2 for a usage error, with the reason printed). */
static int baseline_options(int argc, char **argv, struct baseline_args *a)
{
    static const struct option opts[] = {{"input", required_argument, NULL, 'i'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"schema", required_argument, NULL, 's'},
                                         {"max-sample", required_argument, NULL, 'n'},
                                         {"seed", required_argument, NULL, 'S'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"delimiter", required_argument, NULL, 'd'},
                                         {"label", required_argument, NULL, 'l'},
                                         {"created-at", required_argument, NULL, 'T'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *when = NULL;
    int c;

    *a = (struct baseline_args){.max_sample = 50000, .seed = 1};
    if ((a->prov = calloc(1, sizeof(*a->prov))) == NULL) {
        fprintf(stderr, "driftd: out of memory\n");
        return 2;
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:f:s:n:o:d:l:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (label_option(a, optarg) != 0)
                return 2;
            break;
        case 'T':
            when = optarg;
            break;
        case 'd':
            if (parse_delimiter(optarg, &a->delimiter) != 0)
                return 2;
            break;
        case 'i':
            a->input = optarg;
            break;
        case 'f':
            a->format = optarg;
            break;
        case 's':
            a->schema = optarg;
            break;
        case 'n':
            if (parse_u64("--max-sample", optarg, 1, &a->max_sample) != 0)
                return 2;
            break;
        case 'S':
            if (parse_u64("--seed", optarg, 0, &a->seed) != 0)
                return 2;
            break;
        case 'o':
            a->output = optarg;
            break;
        case 'h':
            fputs(usage_baseline, stdout);
            return 0;
        default:
            return usage_error("baseline");
        }
    }
    int rc = options_done("baseline", argc, argv, a->input != NULL && a->output != NULL,
                          "--input and --output are required", a->format, a->input, &a->fmt);
    if (rc < 0 && created_at(a, when) != 0)
        return 2;
    return rc;
}

/* Complete the provenance the options began with what the build saw and
 * hand it to b; -1 on ENOMEM. */
static int baseline_provenance(struct baseline_args *a, const struct memfile *in, uint64_t records,
                               struct stats_baseline *b)
{
    struct stats_provenance *p = a->prov;
    p->input_path = strdup(a->input);
    p->input_format = strdup(a->fmt == READER_CSV ? "csv" : "ndjson");
    p->driftd_version = strdup(DRIFTD_VERSION);
    if (p->input_path == NULL || p->input_format == NULL || p->driftd_version == NULL)
        return -1;
    p->input_bytes = in->len;
    p->input_rows = records;
    p->max_sample = b->max_sample;
    p->seed = b->seed;
    p->sample_rows = b->sample_rows;
    b->provenance = p;
    a->prov = NULL;
    return 0;
}

/* Build the baseline the options ask for, with its provenance; NULL with
 * the reason printed. */
static struct stats_baseline *baseline_build(struct baseline_args *a)
{
    struct schema schema = {0};
    if (a->schema != NULL && schema_load(&schema, a->schema) != 0)
        return NULL;
    struct memfile in;
    if (memfile_open(&in, a->input) != 0) {
        schema_free(&schema);
        return NULL;
    }
    /* the input's digest, taken beside the build's two passes over it */
    struct sha256_async hash;
    sha256_async_start(&hash, in.data, in.len, a->prov->input_sha256);
    struct stats_baseline *b = NULL;
    uint64_t records = 0;
    int rc = build_baseline(&in, a->fmt, a->delimiter, a->schema != NULL ? &schema : NULL,
                            a->max_sample, a->seed, &b, &records);
    sha256_async_join(&hash);
    if (rc == 0 && baseline_provenance(a, &in, records, b) != 0) {
        fprintf(stderr, "driftd: out of memory\n");
        stats_baseline_free(b);
        b = NULL;
    }
    memfile_close(&in);
    schema_free(&schema);
    return rc == 0 ? b : NULL;
}

/* Write the baseline to --output; 0, or 2 with the reason printed. */
static int baseline_write(const struct baseline_args *a, const struct stats_baseline *b)
{
    size_t len;
    char *text = stats_baseline_serialize(b, &len);
    if (text == NULL) {
        fprintf(stderr, "driftd: out of memory\n");
        return 2;
    }
    int rc = write_output(a->output, text, len) == 0 ? 0 : 2;
    if (rc == 0 && strcmp(a->output, "-") != 0)
        fprintf(stderr, "driftd: wrote %s: %zu feature%s, %llu row%s, sample of %llu row%s\n",
                a->output, b->nfeatures, plural(b->nfeatures), (unsigned long long)b->rows,
                plural(b->rows), (unsigned long long)b->sample_rows, plural(b->sample_rows));
    free(text);
    return rc;
}

int cmd_baseline(int argc, char **argv)
{
    struct baseline_args a;
    int rc = baseline_options(argc, argv, &a);
    struct stats_baseline *b = rc < 0 ? baseline_build(&a) : NULL;
    if (rc < 0)
        rc = b != NULL ? baseline_write(&a, b) : 2;
    stats_baseline_free(b);
    stats_provenance_free(a.prov);
    return rc;
}

/* The command line of `driftd check`. */
struct check_args {
    const char *baseline, *input, *format, *config, *output, *html;
    bool json, all, no_cache;
    enum reader_format fmt;
    char delimiter; /* 0: from the header */
};

/* Read check's options into a; -1 to go on, else the exit status (0 after
 * --help, 2 for a usage error, with the reason printed). */
static int check_options(int argc, char **argv, struct check_args *a)
{
    static const struct option opts[] = {
        {"baseline", required_argument, NULL, 'b'}, {"input", required_argument, NULL, 'i'},
        {"format", required_argument, NULL, 'f'},   {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},           {"all-metrics", no_argument, NULL, 'a'},
        {"output", required_argument, NULL, 'o'},   {"delimiter", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},           {"html", required_argument, NULL, 'H'},
        {"no-cache", no_argument, NULL, 'N'},       {NULL, 0, NULL, 0}};
    int c;

    *a = (struct check_args){0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:i:f:c:jao:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (parse_delimiter(optarg, &a->delimiter) != 0)
                return 2;
            break;
        case 'b':
            a->baseline = optarg;
            break;
        case 'i':
            a->input = optarg;
            break;
        case 'f':
            a->format = optarg;
            break;
        case 'c':
            a->config = optarg;
            break;
        case 'j':
            a->json = true;
            break;
        case 'a':
            a->all = true;
            break;
        case 'o':
            a->output = optarg;
            break;
        case 'N':
            a->no_cache = true;
            break;
        case 'H':
            if (strcmp(optarg, "-") == 0 || *optarg == '\0') {
                fprintf(stderr, "driftd check: --html: a file name, not \"%s\"\n", optarg);
                return usage_error("check");
            }
            a->html = optarg;
            break;
        case 'h':
            fputs(usage_check, stdout);
            return 0;
        default:
            return usage_error("check");
        }
    }
    return options_done("check", argc, argv,
                        a->input != NULL && (a->baseline != NULL || a->config != NULL),
                        "--baseline and --input are required (or --config instead of "
                        "--baseline: its \"baseline\" is used)",
                        a->format, a->input, &a->fmt);
}

/* State of a check run, shared with the reader callbacks. */
struct check_ctx {
    const struct check_args *args;
    const char *baseline;                  /* --baseline, else the configuration's */
    char *baseline_config;                 /* the configuration's, when it is used */
    char baseline_sha[SHA256_HEX_LEN + 1]; /* of the bytes loaded */
    struct prefetch *pf;
    struct drift_opts dopts;
    struct stats_baseline *b;
    struct dataset *ds;
    struct diag diag;
    struct colmap map; /* reader column -> baseline feature */
    bool oom;
    struct prefetch_result res;
    struct report *rep;
    struct sbuf json;    /* the JSON report */
    struct sbuf unknown; /* the first names of columns that are not features */
    size_t nunknown;
};

/* A column of the input became known: map it to its baseline feature. */
static int check_column(void *arg, size_t index, const char *name, size_t len)
{
    struct check_ctx *c = arg;
    int rc = colmap_map(&c->map, c->b, index, name, len);
    if (rc != 0 && !colmap_failed(&c->map) && c->nunknown++ < 20) {
        sbuf_adds(&c->unknown, c->nunknown > 1 ? ", \"" : "\"");
        sbuf_add(&c->unknown, name, len < 200 ? len : 200);
        sbuf_addc(&c->unknown, '"');
    }
    return rc;
}

/* Type errors shown per feature with their place; the rest are counted in
 * the total check_type_totals prints. */
#define TYPE_ERRORS_SHOWN 3

/* Show one type error with its line, CSV column and value, so that a "?" or
 * a decimal comma can be found in the file. */
/* Is the text a number written with a decimal comma ("3,14", "-0,5")? */
static bool decimal_comma(const char *s, size_t len)
{
    size_t i = 0, digits = 0, commas = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        i++;
    for (; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digits++;
        else if (s[i] == ',' && digits > 0)
            commas++;
        else
            return false;
    }
    return commas == 1 && s[len - 1] != ',';
}

static void type_error_show(const struct check_ctx *c, const struct reader_record *rec, size_t col,
                            size_t f)
{
    const struct cell *cell = &rec->cells[col];
    const struct stats_bfeature *bf = &c->ds->b->features[f];
    char where[48] = "";
    if (c->args->fmt == READER_CSV)
        snprintf(where, sizeof(where), "column %zu: ", col + 1);
    fprintf(stderr, "driftd: %s:%llu: record %llu: feature \"%s\": ", c->diag.file,
            (unsigned long long)rec->line, (unsigned long long)rec->index, bf->name);
    if (cell->type != CELL_TEXT) {
        fprintf(stderr, "value is a JSON object or array, not a %s (%scounted as a type error)\n",
                bf->kind == STATS_NUMERICAL ? "number" : "category", where);
        return;
    }
    /* at most 40 bytes of the value, not cut inside a UTF-8 character,
     * control characters escaped */
    size_t len = cell->len;
    if (len > 40)
        for (len = 40; len > 0 && ((unsigned char)cell->str[len] & 0xC0) == 0x80; len--)
            ;
    fprintf(stderr, "value is not a number (%s\"", where);
    diag_put_text(stderr, cell->str, len);
    fprintf(stderr, "\"%s; counted as a type error%s)\n", len < cell->len ? "..." : "",
            decimal_comma(cell->str, cell->len) ? "; a decimal comma? numbers are read with '.'"
                                                : "");
}

/* Add a record's feature cells to the dataset; the first few type errors
 * of a feature are shown with their place, the rest only counted. */
static void check_record(void *arg, const struct reader_record *rec, const struct precell *pre)
{
    struct check_ctx *c = arg;
    c->ds->records++;
    for (size_t i = 0; i < rec->ncells; i++) {
        long f = colmap_get(&c->map, i);
        if (f < 0)
            continue;
        uint64_t before = c->ds->cols[f].type_errors;
        bool ok =
            c->ds->b->features[f].kind == STATS_NUMERICAL
                ? dataset_add_read(c->ds, (size_t)f, rec->cells[i].type, pre[i].cls, pre[i].num)
                : dataset_add_cell(c->ds, (size_t)f, &rec->cells[i]);
        if (!ok)
            c->oom = true;
        if (c->ds->cols[f].type_errors > before && before < TYPE_ERRORS_SHOWN)
            type_error_show(c, rec, i, (size_t)f);
    }
}

/* The input holds about n records: room for them, and a few more, in the
 * numerical columns. DRIFTD_DEBUG=1 prints the estimate. */
static void check_expect(void *arg, size_t n)
{
    struct check_ctx *c = arg;
    if (getenv("DRIFTD_DEBUG") != NULL)
        fprintf(stderr, "driftd: debug: %s: about %zu records, from the first batch's bytes\n",
                c->diag.file, n);
    dataset_reserve(c->ds, n + n / 16 + 64);
}

/* After the messages of the first few, each feature's total of type
 * errors: how much of the column was lost, whatever was shown. */
static void check_type_totals(const struct check_ctx *c)
{
    for (size_t f = 0; f < c->b->nfeatures; f++) {
        uint64_t n = c->ds->cols[f].type_errors;
        if (n == 0)
            continue;
        fprintf(stderr, "driftd: %s: feature \"%s\": %llu type error%s in all", c->diag.file,
                c->b->features[f].name, (unsigned long long)n, plural(n));
        if (n > TYPE_ERRORS_SHOWN)
            fprintf(stderr, " (the first %d shown above)", TYPE_ERRORS_SHOWN);
        fputc('\n', stderr);
    }
}

/* Without --baseline, the configuration names the baseline, as it does
 * for `driftd run`: load it whole (a missing or unreadable baseline is an
 * error naming the key and the file) and take its drift options and its
 * baseline; -1 with the reasons printed. */
static int check_config_baseline(struct check_ctx *c)
{
    struct config cfg;
    struct errlist errs = {0};
    int rc = config_load(c->args->config, &cfg, &errs);
    errlist_print(&errs, stderr);
    errlist_free(&errs);
    if (rc == 0 && (c->baseline_config = strdup(cfg.baseline)) == NULL) {
        fprintf(stderr, "driftd: out of memory\n");
        rc = -1;
    }
    if (rc == 0) {
        drift_opts_clear(&c->dopts);
        c->dopts = cfg.drift;
        drift_opts_init(&cfg.drift);
        c->baseline = c->baseline_config;
    }
    config_free(&cfg);
    return rc == 0 ? 0 : -1;
}

/* Start reading the input on a second thread and load the configuration
 * and the baseline meanwhile; -1 with the reason printed. */
static int check_open(struct check_ctx *c)
{
    const struct check_args *a = c->args;
    c->pf = prefetch_start(a->input, a->fmt, a->delimiter, &c->diag);
    if (c->pf == NULL) {
        fprintf(stderr, "driftd: out of memory\n");
        return -1;
    }
    c->baseline = a->baseline;
    if (a->config != NULL && a->baseline == NULL) {
        if (check_config_baseline(c) != 0)
            return -1;
    } else if (a->config != NULL && config_load_drift_opts(a->config, &c->dopts) != 0) {
        return -1;
    }
    c->dopts.all_metrics = a->all;
    c->b = a->no_cache ? load_baseline(c->baseline, c->baseline_sha)
                       : load_baseline_cached(c->baseline, c->baseline_sha);
    if (c->b == NULL || config_check_features(a->config, &c->dopts, c->b) != 0)
        return -1;
    c->ds = dataset_new(c->b);
    if (c->ds == NULL) {
        fprintf(stderr, "driftd: out of memory\n");
        return -1;
    }
    c->ds->na_tokens = a->fmt == READER_CSV;
    return 0;
}

/* Read every record into the dataset and make sure there is something to
 * compare: records, and at least one feature among the columns (a feature
 * that is not there is only warned about); -1 with the reason printed. */
static int check_read(struct check_ctx *c)
{
    struct prefetch_ops pops = {check_column, check_record, check_expect};
    prefetch_drain(c->pf, &pops, c, &c->res);
    if (!c->res.opened)
        return -1; /* memfile_open said why */
    diag_summary(&c->diag);
    check_type_totals(c);
    if (c->oom || colmap_failed(&c->map)) {
        fprintf(stderr, "driftd: %s: out of memory\n", c->diag.file);
        return -1;
    }
    size_t ncols = colmap_size(&c->map), known = 0;
    for (size_t i = 0; i < ncols; i++)
        known += colmap_get(&c->map, i) >= 0;
    if (c->ds->records == 0) {
        fprintf(stderr, "driftd: %s: no usable records%s\n", c->diag.file,
                c->res.bytes == 0                                 ? " (the file is empty)"
                : c->args->fmt == READER_CSV && c->res.has_header ? " (only a header)"
                                                                  : "");
        return -1;
    }
    if (known == 0) {
        fprintf(stderr, "driftd: %s: none of its columns is a feature of the baseline %s\n",
                c->diag.file, c->baseline);
        return -1;
    }
    for (size_t i = 0; i < c->b->nfeatures; i++) {
        bool seen = false;
        for (size_t j = 0; j < ncols && !seen; j++)
            seen = colmap_get(&c->map, j) == (long)i;
        if (!seen)
            fprintf(stderr,
                    "driftd: %s: baseline feature \"%s\" is not in the data (all missing)\n",
                    c->diag.file, c->b->features[i].name);
    }
    if (c->nunknown > 0)
        fprintf(stderr, "driftd: %s: %zu column%s not a feature of the baseline, ignored: %s%s\n",
                c->diag.file, c->nunknown, c->nunknown == 1 ? " is" : "s are",
                c->unknown.data ? c->unknown.data : "", c->nunknown > 20 ? ", ..." : "");
    /* A record without a feature's column counts it missing, as the
     * daemon's window does: check and run give the same report. */
    dataset_count_absent(c->ds);
    return 0;
}

/* Evaluate drift and render the JSON report; -1 with the reason printed. */
static int check_evaluate(struct check_ctx *c)
{
    if ((c->rep = drift_evaluate(c->ds, &c->dopts)) == NULL) {
        fprintf(stderr, "driftd: out of memory\n");
        return -1;
    }
    if (report_set_origin(c->rep, (double)time(NULL), c->baseline,
                          c->baseline_sha[0] ? c->baseline_sha : NULL,
                          strcmp(c->args->input, "-") == 0 ? "<stdin>" : c->args->input) != 0 ||
        report_set_baseline_labels(c->rep, c->b) != 0) {
        fprintf(stderr, "driftd: out of memory\n");
        return -1;
    }
    report_json(c->rep, c->args->all, &c->json);
    if (sbuf_failed(&c->json)) {
        fprintf(stderr, "driftd: out of memory\n");
        return -1;
    }
    return 0;
}

/* The "model" of the --config file, for the HTML page's header (NULL
 * without one); the file was read and checked before. */
static char *config_model(const char *path)
{
    size_t len;
    char *text = path != NULL ? file_read(path, &len) : NULL;
    if (text == NULL)
        return NULL;
    struct config cfg;
    struct errlist errs = {0};
    char *model = NULL;
    if (config_parse(text, len, path, &cfg, &errs) == 0 && cfg.model != NULL)
        model = strdup(cfg.model);
    config_free(&cfg);
    errlist_free(&errs);
    free(text);
    return model;
}

/* --html: the page of the report, drawn from the data it was made from;
 * -1 with the reason printed. */
static int check_html(struct check_ctx *c)
{
    if (c->args->html == NULL)
        return 0;
    struct html_view *v = html_view_new(c->rep, c->b, c->ds);
    char *model = config_model(c->args->config);
    struct html_meta m = {.model = model, .all_metrics = c->args->all};
    struct sbuf page, labels;
    sbuf_init(&page);
    sbuf_init(&labels);
    const struct stats_provenance *p = c->b->provenance;
    if (p != NULL) { /* where the baseline came from, in the page's header */
        m.baseline_source = p->input_path;
        for (size_t i = 0; i < p->nlabels; i++)
            sbuf_printf(&labels, "%s%s=%s", i ? ", " : "", p->labels[i].key, p->labels[i].value);
        m.baseline_labels = labels.data;
    }
    int rc = v != NULL ? html_render(c->rep, v, &m, &page) : -1;
    if (rc != 0)
        fprintf(stderr, "driftd: %s: out of memory\n", c->args->html);
    else
        rc = write_output(c->args->html, page.data, page.len);
    sbuf_free(&page);
    sbuf_free(&labels);
    free(model);
    html_view_free(v);
    return rc;
}

/* Write the report to --output and print it (JSON or the table); returns
 * the exit status: 1 for dataset drift, 0 for none, 2 on a write error. */
static int check_print(struct check_ctx *c)
{
    const struct check_args *a = c->args;
    if (a->output != NULL && write_output(a->output, c->json.data, c->json.len) != 0)
        return 2;
    if (a->json) {
        if (a->output == NULL || strcmp(a->output, "-") != 0)
            fwrite(c->json.data, 1, c->json.len, stdout);
    } else {
        report_table(c->rep, a->all, stdout);
        if (c->diag.count > 0)
            printf("(%llu record%s skipped; see the messages above)\n",
                   (unsigned long long)c->diag.count, plural(c->diag.count));
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "driftd: <stdout>: %s\n", strerror(errno));
        return 2;
    }
    return c->rep->dataset.drift ? 1 : 0;
}

/* Stop the reading thread if it still runs, and free everything. */
static void check_close(struct check_ctx *c)
{
    prefetch_free(c->pf);
    sbuf_free(&c->json);
    sbuf_free(&c->unknown);
    report_free(c->rep);
    colmap_free(&c->map);
    dataset_free(c->ds);
    stats_baseline_free(c->b);
    drift_opts_clear(&c->dopts);
    free(c->baseline_config);
}

int cmd_check(int argc, char **argv)
{
    struct check_args a;
    int rc = check_options(argc, argv, &a);
    if (rc >= 0)
        return rc;
    struct check_ctx c = {.args = &a,
                          .diag = {strcmp(a.input, "-") == 0 ? "<stdin>" : a.input, 0, 20, 0}};
    colmap_init(&c.map);
    sbuf_init(&c.json);
    drift_opts_init(&c.dopts);
    rc = 2;
    if (check_open(&c) == 0 && check_read(&c) == 0 && check_evaluate(&c) == 0 &&
        check_html(&c) == 0)
        rc = check_print(&c);
    check_close(&c);
    return rc;
}

/* Read run's options: -1 to go on with *path set, else the exit status (0
 * after --help, 2 for a usage error, with the reason printed). */
static int run_options(int argc, char **argv, const char **path)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;

    *path = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            *path = optarg;
            break;
        case 'h':
            fputs(usage_run, stdout);
            return 0;
        default:
            return usage_error("run");
        }
    }
    if (optind < argc) {
        fprintf(stderr, "driftd run: unexpected argument \"%s\"\n", argv[optind]);
        return usage_error("run");
    }
    if (*path == NULL) {
        fprintf(stderr, "driftd run: --config FILE is required\n");
        return usage_error("run");
    }
    return -1;
}

int cmd_run(int argc, char **argv)
{
    const char *path;
    int rc = run_options(argc, argv, &path);
    if (rc >= 0)
        return rc;
    return daemon_run(path);
}

int cmd_version(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_version, stdout);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "driftd version: takes no arguments\n");
        return 2;
    }
    printf("driftd %s\n", DRIFTD_VERSION);
    return 0;
}

int cmd_help(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_help, stdout);
        return 0;
    }
    if (argc > 2) {
        fprintf(stderr, "driftd help: one subcommand at most, got \"%s\" too\n%s", argv[2],
                usage_help);
        return 2;
    }
    if (argc > 1 && strcmp(argv[1], "config") == 0) {
        /* every configuration key, from the table the loader uses */
        config_print_reference(stdout);
        return 0;
    }
    const char *u = cli_usage(argc > 1 ? argv[1] : NULL);
    if (u == NULL) {
        fprintf(stderr, "driftd help: unknown subcommand \"%s\"\n%s", argv[1], usage_main);
        return 2;
    }
    fputs(u, stdout);
    return 0;
}

/* Without a token `run` starts, but every retraining dispatch fails
 * (GitHub answers 401) long after the configuration was called valid:
 * unless retrain.dry_run, retrain.github needs a token from its
 * token_file (config_check_secrets reads that) or $DRIFTD_GITHUB_TOKEN,
 * looked for as the daemon's github_token does. */
static void check_github_token(const struct config *cfg, const char *path, struct errlist *errs)
{
    if (!cfg->github.enabled || cfg->retrain_dry_run || cfg->github.token_file != NULL)
        return;
    const char *env = getenv("DRIFTD_GITHUB_TOKEN");
    if (env != NULL && *env != '\0')
        return;
    errlist_add(errs,
                "%s: retrain.github: no GitHub token: set retrain.github.token_file, or "
                "$DRIFTD_GITHUB_TOKEN in the daemon's environment, or retrain.dry_run: true "
                "(with retrain.dry_run false every dispatch would fail)",
                path);
}

int cmd_validate(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'h':
            fputs(usage_validate, stdout);
            return 0;
        default:
            return usage_error("validate");
        }
    }
    if (path == NULL || optind < argc) {
        fprintf(stderr, "driftd validate: --config FILE is required\n");
        return usage_error("validate");
    }
    struct config cfg;
    struct errlist errs = {0};
    config_load(path, &cfg, &errs);
    /* an unreadable baseline file is already among the errors, with its key */
    if (cfg.baseline != NULL && access(cfg.baseline, R_OK) == 0) {
        struct stats_baseline *b = load_baseline(cfg.baseline, NULL);
        if (b == NULL) {
            errs.n += 0; /* load_baseline printed why */
            errlist_print(&errs, stderr);
            errlist_free(&errs);
            config_free(&cfg);
            return 2;
        }
        config_check_baseline(&cfg.drift, b, path, &errs);
        stats_baseline_free(b);
    }
    /* a secret `run` could not read would make it exit at once */
    config_check_secrets(&cfg, &errs);
    check_github_token(&cfg, path, &errs);
    int rc = errs.n > 0 ? 2 : 0;
    errlist_print(&errs, stderr);
    /* what `run` would warn about at start, without failing the check */
    struct errlist warns = {0};
    if (cfg.path != NULL)
        config_check_risks(&cfg, &warns);
    for (size_t i = 0; i < warns.n; i++)
        fprintf(stderr, "driftd: warning: %s\n", warns.msgs[i]);
    errlist_free(&warns);
    if (rc == 0)
        printf("%s: ok (baseline %s)\n", path, cfg.baseline);
    else
        fprintf(stderr, "driftd: %s: %zu error%s\n", path, errs.n, errs.n == 1 ? "" : "s");
    errlist_free(&errs);
    config_free(&cfg);
    return rc;
}
