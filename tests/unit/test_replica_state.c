/*
 * What a model's replicas share (agent/state.c state_shared_*): a leader's
 * state read by its successor resumes the window numbering (never going
 * back), the alerts' open episode, the retraining's cooldown and the
 * baseline's sha256; a value that is not driftd's is refused. And the
 * ${model} expansion of a nats input's subject and durable name.
 */
#include "agent/in_nats.h"
#include "agent/state.h"
#include "alerts/alert.h"
#include "alerts/retrain.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char SHA[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* A leader after a drifted window: its shared state, read by a fresh
 * replica, gives the same counters, an open episode and the cooldown. */
static void test_roundtrip(void)
{
    struct alerts_conf ac = {"iris", 1, 3600};
    struct alerts *a = alerts_new(&ac), *b = alerts_new(&ac);
    struct alert_feature f = {"x", "ks", 0.5, 0.001, 0.05, true};
    struct alert_decision dec = {.drift = true,
                                 .share = 1,
                                 .drift_share = 0.5,
                                 .drifted = 1,
                                 .total = 1,
                                 .features = &f,
                                 .nfeatures = 1,
                                 .window = {7, 100, 100, 1000, 1010}};
    alerts_window(a, &dec, 1010);
    CHECK(alerts_firing(a));
    struct state_counts ca = {.next_window_id = 8,
                              .windows_evaluated = 7,
                              .sampled_total = 700,
                              .consecutive_drift = 3,
                              .last_eval_at = 1010};
    struct state_parts pa = {.counts = &ca, .alerts = a, .now = tl_now};
    struct sbuf s;
    sbuf_init(&s);
    char bj[300];
    snprintf(bj, sizeof(bj),
             "{\"sha256\": \"%s\", \"run_url\": \"http://gh/runs/7\", \"correlation_id\": "
             "\"driftd-7-abc\"}",
             SHA);
    state_shared_json(&pa, bj, &s);
    CHECK(!sbuf_failed(&s));

    struct state_counts cb = {.next_window_id = 2};
    struct state_parts pb = {.counts = &cb, .alerts = b, .now = tl_now};
    char sha[65];
    CHECK(state_shared_load(&pb, s.data, s.len, sha) == 0);
    CHECK(cb.next_window_id == 8);
    CHECK(cb.windows_evaluated == 7);
    CHECK(cb.sampled_total == 700);
    CHECK(cb.consecutive_drift == 3);
    CHECK(cb.last_eval_at == 1010);
    CHECK(strcmp(sha, SHA) == 0);
    CHECK(alerts_firing(b)); /* the successor does not fire the episode again */
    char url[100], corr[64];
    CHECK(state_shared_baseline(s.data, s.len, sha, url, sizeof(url), corr, sizeof(corr)) == 0);
    CHECK(strcmp(sha, SHA) == 0 && strcmp(url, "http://gh/runs/7") == 0 &&
          strcmp(corr, "driftd-7-abc") == 0);
    CHECK(state_shared_baseline("{}", 2, sha, url, sizeof(url), corr, sizeof(corr)) == -1);

    /* counters never go back: a replica further on keeps its own */
    struct state_counts cc = {.next_window_id = 20, .windows_evaluated = 19};
    struct state_parts pc = {.counts = &cc, .alerts = b, .now = tl_now};
    CHECK(state_shared_load(&pc, s.data, s.len, sha) == 0);
    CHECK(cc.next_window_id == 20);
    CHECK(cc.windows_evaluated == 19);

    /* not driftd's */
    CHECK(state_shared_load(&pc, "[1,2]", 5, sha) == -1);
    CHECK(state_shared_load(&pc, "{\"version\": 2}", 14, sha) == -1);
    CHECK(state_shared_load(&pc, "{\"vers", 6, sha) == -1);
    CHECK(sha[0] == '\0');
    sbuf_free(&s);
    alerts_free(a);
    alerts_free(b);
}

static void test_expand(void)
{
    char *e = in_nats_expand("predictions.${model}", "iris");
    CHECK(e != NULL && strcmp(e, "predictions.iris") == 0);
    free(e);
    e = in_nats_expand("${model}-${model}.x", "m");
    CHECK(e != NULL && strcmp(e, "m-m.x") == 0);
    free(e);
    e = in_nats_expand("plain", "iris");
    CHECK(e != NULL && strcmp(e, "plain") == 0);
    free(e);
    e = in_nats_expand("${mod", "iris");
    CHECK(e != NULL && strcmp(e, "${mod") == 0);
    free(e);
}

int main(void)
{
    test_roundtrip();
    test_expand();
    return tl_done();
}
