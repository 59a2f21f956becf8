/*
 * The column map every reader consumer keeps: answers as a reader's column
 * callback wants them, names read as C strings (as stats_baseline_find
 * needs), growth to any index with every gap unmapped, remapping after a
 * reload, reset for a new input, and a reader driving it.
 */
#include "agent/colmap.h"
#include "agent/reader.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

static char long_name[300]; /* longer than the stack buffer of colmap_map */

static struct stats_bfeature features[3];
static struct stats_baseline baseline = {.nfeatures = 3, .features = features};

/* Features "a", "b" and a 299-byte name; only the names matter here. */
static void make_baseline(void)
{
    memset(long_name, 'n', sizeof(long_name) - 1);
    features[0].name = "a";
    features[1].name = "b";
    features[2].name = long_name;
}

/* A new map is empty and allocates nothing. */
static void test_empty(void)
{
    struct colmap m;
    colmap_init(&m);
    CHECK(colmap_size(&m) == 0);
    CHECK(colmap_get(&m, 0) == -1);
    CHECK(colmap_get(&m, 12345) == -1);
    CHECK(!colmap_failed(&m));
    colmap_free(&m);
    CHECK(colmap_size(&m) == 0);
}

/* Features map to their index and are kept (0); others are ignored (-1). */
static void test_map(void)
{
    struct colmap m;
    colmap_init(&m);
    CHECK(colmap_map(&m, &baseline, 0, "b", 1) == 0);
    CHECK(colmap_map(&m, &baseline, 1, "x", 1) == -1);
    CHECK(colmap_map(&m, &baseline, 2, "a", 1) == 0);
    CHECK(colmap_size(&m) == 3);
    CHECK(colmap_get(&m, 0) == 1);
    CHECK(colmap_get(&m, 1) == -1);
    CHECK(colmap_get(&m, 2) == 0);
    CHECK(colmap_get(&m, 3) == -1);
    /* the name is len bytes, not NUL-terminated: "ab" read as 1 byte is "a" */
    CHECK(colmap_map(&m, &baseline, 3, "ab", 1) == 0);
    CHECK(colmap_get(&m, 3) == 0);
    CHECK(colmap_map(&m, &baseline, 4, "ab", 2) == -1);
    /* up to a NUL byte, as a C string reads (what strndup gave before) */
    CHECK(colmap_map(&m, &baseline, 5, "b\0zz", 4) == 0);
    CHECK(colmap_get(&m, 5) == 1);
    /* an empty name is no feature */
    CHECK(colmap_map(&m, &baseline, 6, "", 0) == -1);
    CHECK(!colmap_failed(&m));
    colmap_free(&m);
}

/* Names longer than the stack buffer are looked up on the heap. */
static void test_long_name(void)
{
    struct colmap m;
    colmap_init(&m);
    CHECK(colmap_map(&m, &baseline, 0, long_name, strlen(long_name)) == 0);
    CHECK(colmap_get(&m, 0) == 2);
    CHECK(colmap_map(&m, &baseline, 1, long_name, strlen(long_name) - 1) == -1);
    CHECK(colmap_get(&m, 1) == -1);
    colmap_free(&m);
}

/* An index far past the end grows the map; the gap reads as unmapped, and
 * the size counts up to the highest index. */
static void test_growth(void)
{
    struct colmap m;
    colmap_init(&m);
    CHECK(colmap_map(&m, &baseline, 0, "a", 1) == 0);
    CHECK(colmap_map(&m, &baseline, 1000, "b", 1) == 0);
    CHECK(colmap_size(&m) == 1001);
    size_t mapped = 0;
    for (size_t i = 0; i < colmap_size(&m); i++)
        mapped += colmap_get(&m, i) >= 0;
    CHECKF(mapped == 2, "mapped %zu, want 2", mapped);
    CHECK(colmap_get(&m, 999) == -1);
    CHECK(colmap_get(&m, 1000) == 1);
    CHECK(colmap_get(&m, 1001) == -1);
    /* dense growth one index at a time, as readers announce columns */
    for (size_t i = 1; i < 5000; i++)
        colmap_map(&m, &baseline, i, i % 2 ? "a" : "z", 1);
    CHECK(colmap_size(&m) == 5000);
    CHECK(colmap_get(&m, 4999) == 0);
    CHECK(colmap_get(&m, 4998) == -1);
    colmap_free(&m);
}

/* Mapping an index again replaces its answer (reader_remap_columns after a
 * reload brings other features); the size does not shrink. */
static void test_remap(void)
{
    struct colmap m;
    colmap_init(&m);
    colmap_map(&m, &baseline, 0, "a", 1);
    colmap_map(&m, &baseline, 1, "b", 1);
    struct stats_bfeature other_features[1] = {{.name = "b"}};
    struct stats_baseline other = {.nfeatures = 1, .features = other_features};
    CHECK(colmap_map(&m, &other, 0, "a", 1) == -1);
    CHECK(colmap_map(&m, &other, 1, "b", 1) == 0);
    CHECK(colmap_get(&m, 0) == -1);
    CHECK(colmap_get(&m, 1) == 0);
    CHECK(colmap_size(&m) == 2);
    colmap_free(&m);
}

/* Reset forgets the columns of the last input, keeps the memory, and the
 * map takes new columns from index 0. */
static void test_reset(void)
{
    struct colmap m;
    colmap_init(&m);
    colmap_map(&m, &baseline, 0, "a", 1);
    colmap_map(&m, &baseline, 1, "b", 1);
    colmap_reset(&m);
    CHECK(colmap_size(&m) == 0);
    CHECK(colmap_get(&m, 0) == -1);
    CHECK(colmap_get(&m, 1) == -1);
    CHECK(colmap_map(&m, &baseline, 0, "b", 1) == 0);
    CHECK(colmap_size(&m) == 1);
    CHECK(colmap_get(&m, 0) == 1);
    CHECK(colmap_get(&m, 1) == -1); /* the old index 1 is gone */
    CHECK(colmap_map(&m, &baseline, 2, "x", 1) == -1);
    CHECK(colmap_get(&m, 1) == -1); /* still gone once the map reaches past it */
    colmap_free(&m);
    /* a freed map is empty and can be used again */
    CHECK(colmap_get(&m, 0) == -1);
    CHECK(colmap_map(&m, &baseline, 2, "a", 1) == 0);
    CHECK(colmap_get(&m, 2) == 0);
    colmap_free(&m);
}

/* What the reader callbacks of a consumer see through the map. */
struct consumer {
    struct colmap map;
    double sum[3]; /* per feature: the sum of its numbers */
    size_t records;
};

static int on_column(void *arg, size_t index, const char *name, size_t len)
{
    struct consumer *c = arg;
    return colmap_map(&c->map, &baseline, index, name, len);
}

static void on_record(void *arg, const struct reader_record *rec)
{
    struct consumer *c = arg;
    c->records++;
    for (size_t i = 0; i < rec->ncells; i++) {
        long f = colmap_get(&c->map, i);
        if (f >= 0 && rec->cells[i].type == CELL_NUMBER)
            c->sum[f] += rec->cells[i].num;
        else if (f < 0 && rec->cells[i].type != CELL_MISSING)
            c->sum[0] = -1e9; /* an ignored NDJSON column was parsed all the same */
    }
}

/* NDJSON keys in any order reach their features; keys that are no feature
 * are ignored by the reader after the map's answer. */
static void test_reader(void)
{
    static const char text[] = "{\"x\": 5, \"b\": 2, \"a\": 1}\n"
                               "{\"a\": 10, \"y\": [1], \"b\": 20}\n"
                               "{\"b\": 200, \"a\": 100, \"x\": 7}\n";
    struct consumer c = {0};
    colmap_init(&c.map);
    struct reader_ops ops = {on_column, on_record, NULL};
    struct reader *r = reader_new(READER_NDJSON, NULL, &ops, &c);
    CHECK(r != NULL);
    reader_feed(r, text, sizeof(text) - 1);
    reader_finish(r);
    CHECK(c.records == 3);
    CHECK_CLOSE(c.sum[0], 111, 0, 0, "sum of a");
    CHECK_CLOSE(c.sum[1], 222, 0, 0, "sum of b");
    CHECK(colmap_size(&c.map) == 4); /* x, b, a, y */
    CHECK(colmap_get(&c.map, 0) == -1);
    CHECK(colmap_get(&c.map, 3) == -1);
    reader_free(r);
    colmap_free(&c.map);
}

int main(void)
{
    make_baseline();
    test_empty();
    test_map();
    test_long_name();
    test_growth();
    test_remap();
    test_reset();
    test_reader();
    return tl_done();
}
