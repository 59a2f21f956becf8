/*
 * libFuzzer target: the streaming NDJSON reader (agent/reader.c), whole, in
 * random chunks and byte by byte, with default, small and tiny limits, and
 * through reader_feed_sampled; see fuzz_reader.h for the checks.
 */
#include "fuzz_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reader_input(READER_NDJSON, data, size);
    return 0;
}
