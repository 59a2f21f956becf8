/*
 * The GitHub client's side of the adoption loop, alone, for
 * test_artifact_fetch.sh against mock_github.py: dispatch a retraining
 * run (or take a run id), follow it with the run hook printing each
 * status change, and once it has completed fetch a member of its
 * artifact through github_fetch_artifact. Prints one line per run status
 * change ("run STATUS CONCLUSION") and, at the end, the result as one
 * JSON line; exits 0 when the fetch worked, 1 when it failed, 2 on a
 * usage or setup error or no outcome in time, 3 when --out cannot be
 * written.
 *
 * Usage: artifact_fetch API_URL TOKEN_FILE STATE_DIR [options]
 *   --run-id N        fetch from run N at once (no dispatch)
 *   --name NAME       artifact name (default iris-c1, the mock's name for
 *                     the dispatch below)
 *   --member NAME     default baseline.json
 *   --max-bytes N     default 67108864
 *   --out FILE        write the member there (the test compares it)
 *   --dry-run         retrain.dry_run: the fetch must refuse
 *   --backoff-scale X retry delays times X (default 0.05)
 *   --seconds S       give up after S seconds (default 60)
 */
#include "alerts/artifact.h"
#include "alerts/github.h"
#include "alerts/outbox.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "lib/sha256.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct app {
    struct event_base *base;
    struct github *g;
    const char *name, *member, *out;
    size_t max_bytes;
    bool fetching, dry_run;
    int rc;
};

/* The wall clock, for the outbox and the client. */
static double now_real(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Print s as a JSON string. */
static void json_str(const char *s)
{
    struct sbuf b;
    sbuf_init(&b);
    sbuf_add_json_string(&b, s, strlen(s));
    fputs(b.data ? b.data : "\"\"", stdout);
    sbuf_free(&b);
}

/* The fetch's outcome: one JSON line, the member to --out, then stop. */
static void on_fetched(void *arg, const struct artifact_result *r)
{
    struct app *a = arg;
    char sha[SHA256_HEX_LEN + 1] = "";
    if (r->ok)
        sha256_hex(r->data, r->len, sha);
    printf("{\"ok\": %s, \"permanent\": %s, \"reason\": ", r->ok ? "true" : "false",
           r->permanent ? "true" : "false");
    json_str(r->reason);
    printf(", \"run_id\": %llu, \"artifact_id\": %llu, \"artifact_name\": ",
           (unsigned long long)r->run_id, (unsigned long long)r->artifact_id);
    json_str(r->artifact_name);
    printf(", \"member\": ");
    json_str(r->member);
    printf(", \"zip_sha256\": \"%s\", \"digest\": ", r->zip_sha256);
    json_str(r->digest);
    printf(", \"run_url\": ");
    json_str(r->run_url);
    printf(", \"zip_bytes\": %zu, \"len\": %zu, \"data_sha256\": \"%s\", \"attempts\": %u}\n",
           r->zip_bytes, r->len, sha, r->attempts);
    fflush(stdout);
    a->rc = r->ok ? 0 : 1;
    if (r->ok && a->out != NULL) {
        FILE *f = fopen(a->out, "wb");
        bool written = f != NULL && fwrite(r->data, 1, r->len, f) == r->len;
        if (f == NULL || fclose(f) != 0 || !written) {
            fprintf(stderr, "artifact_fetch: cannot write %s\n", a->out);
            a->rc = 3;
        }
    }
    event_base_loopexit(a->base, NULL);
}

/* Start the fetch of run_id's artifact; on refusal print why and stop. */
static void start_fetch(struct app *a, uint64_t run_id)
{
    char err[512];
    a->fetching = true;
    if (github_fetch_artifact(a->g, run_id, a->name, a->max_bytes, a->member, on_fetched, a, err,
                              sizeof(err)) != 0) {
        printf("{\"ok\": false, \"refused\": true, \"reason\": ");
        json_str(err);
        printf("}\n");
        fflush(stdout);
        a->rc = 1;
        event_base_loopexit(a->base, NULL);
    }
}

/* The run hook: print the change; a run completed with success starts
 * the fetch, any other conclusion ends the program. */
static void on_run(void *arg, const struct github_state *st)
{
    struct app *a = arg;
    printf("run %s %s\n", st->run_status, st->run_conclusion[0] ? st->run_conclusion : "-");
    fflush(stdout);
    if (strcmp(st->run_status, "completed") != 0 || a->fetching)
        return;
    if (strcmp(st->run_conclusion, "success") != 0) {
        printf("{\"ok\": false, \"run_failed\": true, \"reason\": ");
        json_str(st->run_conclusion);
        printf("}\n");
        fflush(stdout);
        a->rc = 1;
        event_base_loopexit(a->base, NULL);
        return;
    }
    start_fetch(a, st->run_id);
}

/* A failed dispatch ends the run of this program. */
static void on_event(void *arg, enum alert_kind kind, const struct github_state *st)
{
    struct app *a = arg;
    if (kind == ALERT_RETRAIN_FAILED) {
        printf("{\"ok\": false, \"dispatch_failed\": true, \"reason\": ");
        json_str(st->message);
        printf("}\n");
        a->rc = 1;
        event_base_loopexit(a->base, NULL);
    }
}

/* The token file's first line. */
static char *read_token(const char *path)
{
    FILE *f = fopen(path, "r");
    char buf[4096];
    if (f == NULL || fgets(buf, sizeof(buf), f) == NULL) {
        if (f != NULL)
            fclose(f);
        return NULL;
    }
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    return strdup(buf);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: artifact_fetch API_URL TOKEN_FILE STATE_DIR [options]\n");
        return 2;
    }
    struct app a = {.name = "iris-c1", .member = "baseline.json", .max_bytes = 64u << 20, .rc = 2};
    uint64_t run_id = 0;
    double seconds = 60, scale = 0.05;
    for (int i = 4; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--dry-run") == 0) {
            a.dry_run = true;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "artifact_fetch: %s wants a value\n", argv[i]);
            return 2;
        }
        if (strcmp(argv[i], "--run-id") == 0)
            run_id = strtoull(v, NULL, 10);
        else if (strcmp(argv[i], "--name") == 0)
            a.name = v;
        else if (strcmp(argv[i], "--member") == 0)
            a.member = v;
        else if (strcmp(argv[i], "--max-bytes") == 0)
            a.max_bytes = strtoull(v, NULL, 10);
        else if (strcmp(argv[i], "--out") == 0)
            a.out = v;
        else if (strcmp(argv[i], "--backoff-scale") == 0)
            scale = strtod(v, NULL);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = strtod(v, NULL);
        else {
            fprintf(stderr, "artifact_fetch: unknown option %s\n", argv[i]);
            return 2;
        }
        i++;
    }
    log_init();
    artifact_test_backoff_scale(scale);
    char *token = read_token(argv[2]);
    a.base = event_base_new();
    struct http_client *http = http_client_new(a.base, "driftd/" DRIFTD_VERSION);
    struct outbox *ob = http ? outbox_new(a.base, http, argv[3], now_real) : NULL;
    const struct github_input inputs[] = {{"model", "${model}"},
                                          {"correlation_id", "${correlation_id}"}};
    struct github_settings s = {
        .api_url = argv[1],
        .repository = "owner/repo",
        .workflow = "retrain.yml",
        .ref = "main",
        .token = token,
        .inputs = inputs,
        .n_inputs = 2,
        .timeout = 10,
        .follow_seconds = 0.2,
        .max_age = 3600,
        .dry_run = a.dry_run,
    };
    a.g = ob ? github_new(&s, ob, http, a.base, now_real, on_event, &a) : NULL;
    free(token);
    if (a.g == NULL) {
        fprintf(stderr, "artifact_fetch: cannot set up the client\n");
        return 2;
    }
    github_set_run_hook(a.g, on_run, &a);
    bool setup_failed = false;
    if (run_id != 0) {
        start_fetch(&a, run_id);
    } else {
        struct github_vars v = {.model = "iris", .correlation_id = "c1"};
        if (github_dispatch(a.g, &v) != 0) {
            fprintf(stderr, "artifact_fetch: dispatch refused\n");
            setup_failed = true;
        }
    }
    /* rc is 2 until an outcome is printed (a refusal prints at once) */
    if (a.rc == 2 && !setup_failed) {
        struct timeval tv = {(time_t)seconds, 0};
        event_base_loopexit(a.base, &tv);
        event_base_dispatch(a.base);
        if (a.rc == 2)
            fprintf(stderr, "artifact_fetch: no outcome within %.0f s\n", seconds);
    }
    github_free(a.g);
    outbox_free(ob);
    http_client_free(http);
    event_base_free(a.base);
    return a.rc;
}
