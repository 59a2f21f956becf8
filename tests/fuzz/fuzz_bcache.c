/*
 * libFuzzer target: check's baseline cache (agent/bcache.c, the header;
 * stats/bsamples.c bsamples_from_payload, the samples' part), which any
 * program could have written beside a baseline. The input is a whole
 * cache file for the baseline below (tests/fuzz/corpus/bcache holds the
 * one driftd writes for it); when its first byte is odd, the samples'
 * part gets the checksum of its own words, so that what the checksum
 * guards (the spans, the values' order) is fuzzed too. Any bytes: no
 * crash, leak or UB, and a
 * baseline read from the cache obeys baseline.h (sorted, finite samples,
 * as many as the JSON says) and serialises to the JSON's own bytes when
 * its samples are the JSON's.
 */
#include "agent/bcache.h"
#include "stats/baseline.h"
#include "stats/bsamples.h"

#include "fuzz_check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* `driftd baseline --max-sample 30` of the first 30 rows of the iris data */
static const char json[] =
    "{\n"
    "\"format\": \"driftd-baseline\",\n"
    "\"version\": 1,\n"
    "\"rows\": 30,\n"
    "\"sample_rows\": 30,\n"
    "\"max_sample\": 30,\n"
    "\"seed\": 1,\n"
    "\"provenance\": {\"input\": {\"path\": \"train-30.csv\", \"sha256\": "
    "\"a8acc8e581b8354894eba0b2aa943cc8cf239f860ac1e4ca6e72097d01a33b7e\", \"bytes\": 748, "
    "\"rows\": 30, \"format\": \"csv\"},\n"
    "  \"sample\": {\"max_sample\": 30, \"seed\": 1, \"rows\": 30},\n"
    "  \"driftd_version\": \"0.1.0\",\n"
    "  \"labels\": {}},\n"
    "\"features\": [\n"
    "{\"name\": \"sepal_length\", \"kind\": \"numerical\", \"count\": 30, \"missing\": 0, "
    "\"distinct\": 12, \"sample_missing\": 0, \"min\": 4.3, \"max\": 5.8, \"mean\": "
    "5.026666666666666, \"std\": 0.36599939283495486,\n"
    "  \"sample\": "
    "[4.3,4.4,4.6,4.6,4.6,4.7,4.7,4.8,4.8,4.8,4.9,4.9,5,5,5,5,5.1,5.1,5.1,5.1,5.1,5.2,5.2,5.4,5.4,"
    "5.4,5.4,5.7,5.7,5.8]},\n"
    "{\"name\": \"sepal_width\", \"kind\": \"numerical\", \"count\": 30, \"missing\": 0, "
    "\"distinct\": 13, \"sample_missing\": 0, \"min\": 2.9, \"max\": 4.4, \"mean\": 3.45, \"std\": "
    "0.3442382895611701,\n"
    "  \"sample\": "
    "[2.9,3,3,3,3,3.1,3.1,3.2,3.2,3.3,3.4,3.4,3.4,3.4,3.4,3.4,3.4,3.5,3.5,3.5,3.6,3.6,3.7,3.7,3.8,"
    "3.8,3.9,3.9,4,4.4]},\n"
    "{\"name\": \"petal_length\", \"kind\": \"numerical\", \"count\": 30, \"missing\": 0, "
    "\"distinct\": 9, \"sample_missing\": 0, \"min\": 1, \"max\": 1.9, \"mean\": "
    "1.4733333333333338, \"std\": 0.18245242911205342,\n"
    "  \"sample\": "
    "[1,1.1,1.2,1.3,1.3,1.4,1.4,1.4,1.4,1.4,1.4,1.4,1.4,1.5,1.5,1.5,1.5,1.5,1.5,1.5,1.5,1.6,1.6,1."
    "6,1.6,1.7,1.7,1.7,1.7,1.9]},\n"
    "{\"name\": \"petal_width\", \"kind\": \"numerical\", \"count\": 30, \"missing\": 0, "
    "\"distinct\": 5, \"sample_missing\": 0, \"min\": 0.1, \"max\": 0.5, \"mean\": "
    "0.24666666666666673, \"std\": 0.09910712498212337,\n"
    "  \"sample\": "
    "[0.1,0.1,0.1,0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.3,0.3,0.3,"
    "0.3,0.4,0.4,0.4,0.4,0.4,0.5]},\n"
    "{\"name\": \"species\", \"kind\": \"categorical\", \"count\": 30, \"missing\": 0, "
    "\"distinct\": 1, \"sample_missing\": 0,\n"
    "  \"categories\": [\n"
    "    [\"setosa\", 30, 30]]}\n"
    "]\n"
    "}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = sizeof(json) - 1;
    bool header = bcache_header_ok(data, size, len);
    (void)header; /* any answer will do; reading it must be safe */
    /* the samples' part after a header's worth of bytes, as check maps it */
    size_t off = size >= sizeof(struct bcache_header) ? sizeof(struct bcache_header) : 0;
    void *map =
        mmap(NULL, size ? size : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    FUZZ_CHECK(map != MAP_FAILED);
    memcpy(map, data, size);
    size_t words = (size - off) / 8;
    if (size > 0 && (data[0] & 1) && words >= 2) {
        uint64_t sum = bsamples_checksum((char *)map + off, words - 1);
        memcpy((char *)map + off + 8 * (words - 1), &sum, sizeof(sum));
    }
    mprotect(map, size ? size : 1, PROT_READ); /* as check maps it: a write would crash */
    struct stats_baseline_cache cache = {.map = map, .maplen = size ? size : 1, .payload = off};
    struct stats_baseline *b = NULL;
    char err[256];
    int rc = stats_baseline_parse_cached(json, len, "fuzz", &cache, &b, err, sizeof(err));
    FUZZ_CHECK(rc == 0);           /* the JSON is valid: a bad cache is only ignored */
    FUZZ_CHECK(cache.map == NULL); /* taken in every case */
    for (size_t i = 0; i < b->nfeatures; i++) {
        const struct stats_bfeature *f = &b->features[i];
        for (size_t j = 0; j < f->n_sample; j++) {
            FUZZ_CHECK(isfinite(f->sample[j]));
            FUZZ_CHECK(j == 0 || f->sample[j - 1] <= f->sample[j]);
        }
        FUZZ_CHECK(f->kind != STATS_NUMERICAL || f->n_sample <= f->count);
    }
    if (!cache.used) { /* parsed from the JSON: it writes back the same bytes */
        size_t n;
        char *back = stats_baseline_serialize(b, &n);
        FUZZ_CHECK(back != NULL && n == len && memcmp(back, json, n) == 0);
        free(back);
    }
    stats_baseline_free(b);
    return 0;
}
