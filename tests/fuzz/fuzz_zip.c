/*
 * libFuzzer target: the zip member reader (alerts/artifact.c over
 * libzip), which reads what a retraining run's artifact download hands
 * it. The first byte picks the member asked for (baseline.json, the first
 * of a zip the fuzzer grows from the seeds, a path-like name) and the
 * second the size limit (1 byte to 64 MiB); the rest is the zip. A read
 * that works gives a NUL-terminated copy within the limit and no message;
 * one that fails gives no copy and a message starting "zip: "; the same
 * input reads the same way twice; a message fits any buffer, however
 * small.
 */
#include "alerts/artifact.h"

#include "fuzz_check.h"

#include <stdint.h>
#include <string.h>

static const char *const members[] = {"baseline.json", "a", "../../x", "model.joblib", "dir/"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const char *member = members[data[0] % (sizeof(members) / sizeof(members[0]))];
    size_t limit = (size_t)1 << (data[1] % 27); /* 1 B .. 64 MiB */
    const uint8_t *zip = data + 2;
    size_t len = size - 2;

    char *out = NULL, err[256];
    size_t out_len = 0;
    int rc = artifact_zip_member(zip, len, member, limit, &out, &out_len, err, sizeof(err));
    if (rc == 0) {
        FUZZ_CHECK(out != NULL && out_len <= limit && out[out_len] == '\0' && err[0] == '\0');
    } else {
        FUZZ_CHECK(rc == -1 && out == NULL && out_len == 0 && strncmp(err, "zip: ", 5) == 0);
    }

    /* the same again, with a tiny message buffer */
    char *again = NULL, small[7];
    size_t again_len = 0;
    int rc2 =
        artifact_zip_member(zip, len, member, limit, &again, &again_len, small, sizeof(small));
    FUZZ_CHECK(rc2 == rc && again_len == out_len);
    FUZZ_CHECK(rc != 0 || memcmp(out, again, out_len) == 0);
    FUZZ_CHECK(strlen(small) < sizeof(small));
    free(out);
    free(again);
    return 0;
}
