/*
 * libFuzzer target: the state a model's replicas share (agent/state.c
 * state_shared_load, state_shared_baseline), which a replica reads from a
 * JetStream key-value bucket any other client could have written. Any
 * bytes: no crash, counters never go back, and what one reader takes the
 * other takes too (the same sha256); a state written back from what was
 * read reads the same again.
 */
#include "agent/state.h"
#include "alerts/alert.h"

#include "fuzz_check.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static double zero_now(void)
{
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct alerts_conf ac = {"m", 1, 3600};
    struct alerts *a = alerts_new(&ac);
    FUZZ_CHECK(a != NULL);
    struct state_counts c = {.next_window_id = 5, .windows_evaluated = 4};
    struct state_parts p = {.counts = &c, .alerts = a, .now = zero_now};
    char sha[SHA256_HEX_LEN + 1], sha2[SHA256_HEX_LEN + 1], url[512], corr[64];
    int rc = state_shared_load(&p, (const char *)data, size, sha);
    int rb =
        state_shared_baseline((const char *)data, size, sha2, url, sizeof(url), corr, sizeof(corr));
    FUZZ_CHECK((rc == 0) == (rb == 0));
    FUZZ_CHECK(strcmp(sha, sha2) == 0);
    FUZZ_CHECK(c.next_window_id >= 5 && c.windows_evaluated >= 4);
    if (rc == 0) {
        /* written back and read again: the same counters and sha256 */
        struct sbuf s;
        sbuf_init(&s);
        char bj[128];
        snprintf(bj, sizeof(bj), "{\"sha256\": \"%s\"}", sha);
        state_shared_json(&p, bj, &s);
        if (!sbuf_failed(&s)) {
            struct state_counts c2 = {0};
            struct state_parts p2 = {.counts = &c2, .alerts = a, .now = zero_now};
            FUZZ_CHECK(state_shared_load(&p2, s.data, s.len, sha2) == 0);
            FUZZ_CHECK(strcmp(sha, sha2) == 0);
            FUZZ_CHECK(c2.next_window_id == c.next_window_id &&
                       c2.windows_evaluated == c.windows_evaluated &&
                       c2.sampled_total == c.sampled_total);
        }
        sbuf_free(&s);
    }
    alerts_free(a);
    return 0;
}
