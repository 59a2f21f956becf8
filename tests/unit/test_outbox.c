/*
 * The spool without a network: file names stay unique and replay keeps the
 * order of queueing whatever the clock does (the clock is injected and goes
 * back between two runs on one spool); a spool that cannot be written keeps
 * the entry in memory and says which directory failed.
 */
#include "alerts/outbox.h"
#include "lib/log.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the replay sent, in order: the bodies' numbers. */
struct seen {
    int *order;
    size_t n, cap;
};

/* Record the body and refuse to build a request: the outbox gives the entry
 * up at once, so the loop walks the whole queue without a network. */
static int record_request(void *ctx, const char *body, size_t len, struct http_request *req)
{
    struct seen *s = ctx;
    (void)len, (void)req;
    if (s->n < s->cap)
        s->order[s->n++] = atoi(body);
    return -1;
}

static const struct outbox_target_ops recorder = {record_request, NULL, NULL};

/* Queue bodies first..first+n-1 in one outbox run started at time t0. */
static void queue_run(struct event_base *base, struct http_client *http, const char *root,
                      double t0, int first, int n)
{
    tl_time = t0;
    struct outbox *ob = outbox_new(base, http, root, tl_now);
    CHECK(ob != NULL);
    if (ob == NULL)
        return;
    struct seen none = {0};
    CHECK(outbox_add_target(ob, "t", &recorder, &none, 1e9) == 0);
    for (int i = first; i < first + n; i++) {
        char body[32];
        int len = snprintf(body, sizeof(body), "%d", i);
        CHECKF(outbox_enqueue(ob, "t", body, (size_t)len) == 0, "enqueue %d", i);
        tl_time -= 0.0005; /* the clock keeps going back while queueing */
    }
    outbox_free(ob); /* the files stay for the next run */
}

int main(void)
{
    char *root = tl_tmpdir("outbox");
    tl_log_capture(); /* a run gives 3,000 entries up: lines counted, not printed */
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/spool", root);
    struct event_base *base = event_base_new();
    struct http_client *http = http_client_new(base, "driftd-test");

    /* 1,500 entries, then the clock steps back one second and 1,500 more. */
    queue_run(base, http, root, 1700000000.0, 0, 1500);
    queue_run(base, http, root, 1699999999.0, 1500, 1500);
    size_t files = tl_count_files(dir, ".json");
    CHECKF(files == 3000, "3000 entries queued, %zu spool files", files);

    /* A third run replays them: in the order they were queued. */
    tl_time = 1699999998.0;
    struct outbox *ob = outbox_new(base, http, root, tl_now);
    struct seen s = {calloc(4000, sizeof(int)), 0, 4000};
    CHECK(ob != NULL && s.order != NULL);
    if (ob != NULL && s.order != NULL) {
        CHECK(outbox_add_target(ob, "t", &recorder, &s, 1e9) == 0);
        outbox_replay(ob);
        event_base_dispatch(base);
        CHECKF(s.n == files, "replayed %zu of %zu", s.n, files);
        size_t bad = 0;
        for (size_t i = 0; i < s.n; i++)
            bad += s.order[i] != (int)i;
        CHECKF(bad == 0, "%zu of %zu replayed out of queueing order", bad, s.n);
    }
    free(s.order);
    outbox_free(ob);
    char dead[600];
    snprintf(dead, sizeof(dead), "%s/dead-letter", root);
    CHECKF(tl_count_files(dead, ".json") == files, "%zu dead letters in %s, want %zu",
           tl_count_files(dead, ".json"), dead, files);

    /* The spool directory turns into a file (ENOTDIR: as good as ENOSPC or
     * EROFS, and root cannot chmod its way out of it). */
    ob = outbox_new(base, http, root, tl_now);
    CHECK(ob != NULL);
    if (ob != NULL) {
        struct seen none = {0};
        CHECK(outbox_add_target(ob, "t", &recorder, &none, 1e9) == 0);
        CHECK(outbox_write_error(ob) == NULL);
        char moved[600];
        snprintf(moved, sizeof(moved), "%s/spool.away", root);
        CHECK(rename(dir, moved) == 0);
        FILE *f = fopen(dir, "w");
        CHECK(f != NULL);
        if (f != NULL)
            fclose(f);
        size_t lines = tl_log_count(LOG_DEBUG);
        for (int i = 0; i < 5; i++)
            CHECK(outbox_enqueue(ob, "t", "x", 1) == 0);
        struct outbox_stats st = outbox_stats(ob, "t");
        CHECKF(st.queued == 5 && st.not_durable == 5 && st.dropped == 0,
               "queued %llu not_durable %llu dropped %llu", (unsigned long long)st.queued,
               (unsigned long long)st.not_durable, (unsigned long long)st.dropped);
        const char *we = outbox_write_error(ob);
        char want[700];
        snprintf(want, sizeof(want), "%s: Not a directory", dir);
        CHECKF(we != NULL && strcmp(we, want) == 0, "write error %s, want %s", we ? we : "NULL",
               want);
        CHECKF(tl_log_count(LOG_DEBUG) == lines + 1,
               "%zu log lines for 5 failures, want 1 (rate limit)",
               tl_log_count(LOG_DEBUG) - lines);
        CHECK(strstr(tl_log_last(LOG_DEBUG), "not durable") != NULL);
        /* The directory comes back: the next write clears the error. */
        CHECK(unlink(dir) == 0 && rename(moved, dir) == 0);
        CHECK(outbox_enqueue(ob, "t", "y", 1) == 0);
        CHECKF(outbox_write_error(ob) == NULL, "write error still %s", outbox_write_error(ob));
        CHECK(outbox_stats(ob, "t").not_durable == 5);
        outbox_free(ob);
    }

    http_client_free(http);
    event_base_free(base);
    tl_log_stop();
    tl_tmpdir_remove(root);
    return tl_done();
}
