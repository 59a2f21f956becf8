/*
 * libFuzzer target: the configuration loader (agent/config.c). The input is
 * handed over NUL-terminated, as config_load does; every outcome must free
 * cleanly, a success must satisfy the cross-key checks, and a success is
 * also checked against a small baseline (config_check_baseline).
 */
#include "agent/config.h"
#include "agent/reader.h"
#include "stats/baseline.h"

#include "fuzz_check.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct stats_baseline *baseline(void)
{
    static struct stats_baseline *b;
    if (b == NULL) {
        char err[256];
        if (stats_baseline_parse(fuzz_baseline_text, strlen(fuzz_baseline_text), "builtin", &b, err,
                                 sizeof(err)) != 0) {
            fprintf(stderr, "%s\n", err);
            abort();
        }
    }
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    FUZZ_CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';

    struct config c;
    struct errlist errs = {0};
    int rc = config_parse(text, size, "fuzz.json", &c, &errs);
    FUZZ_CHECK(rc == 0 ? errs.n == 0 : errs.n > 0);
    for (size_t i = 0; i < errs.n; i++)
        FUZZ_CHECK(errs.msgs[i] != NULL && strncmp(errs.msgs[i], "fuzz.json:", 10) == 0);
    FUZZ_CHECK(c.path != NULL && strcmp(c.path, "fuzz.json") == 0);
    if (rc == 0) {
        FUZZ_CHECK(c.state_dir != NULL && c.listen != NULL && c.model != NULL);
        FUZZ_CHECK(c.window_min_records <= c.window_records);
        FUZZ_CHECK(c.window_sample >= 1 && c.window_seconds > 0);
        FUZZ_CHECK(c.drift.drift.drift_share >= 0 && c.drift.drift.drift_share <= 1);
        for (size_t i = 0; i < c.n_inputs; i++) {
            const struct input_conf *in = &c.inputs[i];
            FUZZ_CHECK(in->type == INPUT_HTTP || in->type == INPUT_TAIL || in->type == INPUT_STDIN);
            FUZZ_CHECK(in->type != INPUT_TAIL || in->path != NULL);
            FUZZ_CHECK(in->type == INPUT_HTTP || in->format == READER_CSV ||
                       in->format == READER_NDJSON);
        }
        for (size_t i = 0; i < c.n_sinks; i++) {
            const struct sink_conf *s = &c.sinks[i];
            FUZZ_CHECK(s->type == SINK_LOG || (s->url != NULL) != (s->url_file != NULL));
            for (size_t h = 0; h < s->n_headers; h++)
                FUZZ_CHECK(s->headers[h].name != NULL && s->headers[h].value != NULL);
        }
        for (size_t i = 0; i < c.drift.n_overrides; i++)
            FUZZ_CHECK(c.drift.overrides[i].name != NULL);
        if (c.github.enabled)
            FUZZ_CHECK(c.github.repository != NULL && c.github.workflow != NULL &&
                       c.github.n_inputs <= 25);

        struct errlist berrs = {0};
        config_check_baseline(&c.drift, baseline(), "fuzz.json", &berrs);
        errlist_free(&berrs);
    }
    errlist_free(&errs);
    config_free(&c);
    free(text);
    return 0;
}
