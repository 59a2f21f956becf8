/*
 * The text of alert bodies: the UTF-8 helpers (a cut never splits a
 * character; invalid input is found), alert_format's truncation, the
 * summary of many long non-ASCII names, the Slack table's columns counted
 * in characters, webhook and Slack bodies that are strict UTF-8 JSON
 * carrying their notification id, and the ids themselves.
 */
#include "alerts/alert.h"
#include "alerts/sinks.h"
#include "testlib.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_cut(void)
{
    const char *ru = "привет"; /* 2 bytes a letter */
    CHECK(alert_utf8_cut(ru, 12, 5) == 4);
    CHECK(alert_utf8_cut(ru, 12, 6) == 6);
    CHECK(alert_utf8_cut(ru, 12, 1) == 0);
    CHECK(alert_utf8_cut(ru, 12, 100) == 12);
    CHECK(alert_utf8_cut(ru, 12, 0) == 0);
    const char *emoji = "a\U0001F600b"; /* 6 bytes: a, a 4-byte emoji, b */
    for (size_t m = 1; m <= 4; m++)
        CHECKF(alert_utf8_cut(emoji, 6, m) == 1, "emoji cut at %zu: %zu", m,
               alert_utf8_cut(emoji, 6, m));
    CHECK(alert_utf8_cut(emoji, 6, 5) == 5);
    CHECK(alert_utf8_cut("abc", 3, 2) == 2);
    /* every cut of a mixed text: a valid prefix, at most 3 bytes short */
    const char *mix = "x_温度_ё😀ж-€";
    size_t len = strlen(mix);
    for (size_t m = 0; m <= len; m++) {
        size_t c = alert_utf8_cut(mix, len, m);
        CHECKF(c <= m && c + 3 >= m && alert_utf8_valid(mix, c) == c, "cut at %zu gave %zu", m, c);
    }
}

static void test_valid(void)
{
    CHECK(alert_utf8_valid("€ok", 5) == 5);
    CHECK(alert_utf8_valid("\xc0\x80", 2) == 0);         /* overlong NUL */
    CHECK(alert_utf8_valid("\xe0\x80\xaf", 3) == 0);     /* overlong / */
    CHECK(alert_utf8_valid("\xed\xa0\x80", 3) == 0);     /* a surrogate */
    CHECK(alert_utf8_valid("\xf4\x90\x80\x80", 4) == 0); /* past U+10FFFF */
    CHECK(alert_utf8_valid("a\xff", 2) == 1);
    CHECK(alert_utf8_valid("ab\xe2\x82", 4) == 2); /* cut short */
    CHECK(alert_utf8_valid("\xd0\xbf\x41", 3) == 3);
    CHECK(alert_utf8_valid("\xd0\x41", 2) == 0); /* a lead without its continuation */
}

static void test_format(void)
{
    char buf[8];
    /* "ab" + three euro signs is 11 bytes; 7 fit, the second € would be cut */
    size_t n = alert_format(buf, sizeof(buf), "ab%s", "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac");
    CHECKF(n == 5 && strcmp(buf, "ab\xe2\x82\xac") == 0, "got %zu \"%s\"", n, buf);
    n = alert_format(buf, sizeof(buf), "%s", "abc");
    CHECK(n == 3 && strcmp(buf, "abc") == 0);
    n = alert_format(buf, sizeof(buf), "%s", "abcdefghij");
    CHECK(n == 7 && strcmp(buf, "abcdefg") == 0);
}

/* Sixty drifted features named in Cyrillic, CJK and emoji. */
#define NF 60
static struct alert_feature feats[NF];
static char names[NF][96];
static struct alert_decision dec;

static void make_decision(void)
{
    static const char *const words[] = {"температура_двигателя", "温度传感器读数平均值",
                                        "\xf0\x9f\x93\x88_нагрузка_\xf0\x9f\x9a\x80", "ёжик"};
    for (size_t i = 0; i < NF; i++) {
        snprintf(names[i], sizeof(names[i]), "f%zu_%s", i, words[i % 4]);
        feats[i] = (struct alert_feature){names[i], "ks", 0.5, 1e-9, 0.05, true};
    }
    dec = (struct alert_decision){.drift = true,
                                  .share = 1,
                                  .drift_share = 0.5,
                                  .drifted = NF,
                                  .total = NF,
                                  .features = feats,
                                  .nfeatures = NF,
                                  .window = {7, 500, 500, 1e9, 1e9 + 60}};
}

static struct alert_event event(void)
{
    return (struct alert_event){.kind = ALERT_DRIFT,
                                .status = ALERT_FIRING,
                                .model = "модель",
                                .severity = "warning",
                                .fingerprint = "0123456789abcdef",
                                .starts_at = 1e9,
                                .ends_at = NAN,
                                .decision = &dec};
}

static void test_summary(void)
{
    struct alert_event ev = event();
    char buf[1024];
    alert_summary(&ev, buf, sizeof(buf));
    size_t len = strlen(buf);
    CHECKF(alert_utf8_valid(buf, len) == len, "summary not UTF-8 at byte %zu",
           alert_utf8_valid(buf, len));
    CHECKF(len > 900 && strstr(buf, " more)") == buf + len - 6, "summary ends \"%s\"",
           buf + (len > 40 ? len - 40 : 0));
    /* a budget smaller than any name: the start of the first, still UTF-8 */
    char small[100];
    alert_summary(&ev, small, sizeof(small));
    len = strlen(small);
    CHECKF(alert_utf8_valid(small, len) == len, "small summary \"%s\"", small);
    CHECKF(strstr(small, "more)") != NULL, "small summary \"%s\"", small);
}

/* cJSON parses what a strict UTF-8 receiver would: check UTF-8 first. */
static cJSON *parse_body(const struct sbuf *s, const char *what)
{
    CHECKF(!sbuf_failed(s) && alert_utf8_valid(s->data, s->len) == s->len,
           "%s body is not UTF-8 (at byte %zu)", what, alert_utf8_valid(s->data, s->len));
    cJSON *j = cJSON_ParseWithLength(s->data, s->len);
    CHECKF(j != NULL, "%s body is not JSON", what);
    return j;
}

static void test_bodies(void)
{
    static const char id[] = "3f1c2b9a-5d4e-4f6a-8b7c-0d1e2f3a4b5c";
    struct alert_event ev = event();
    struct sbuf s;
    sbuf_init(&s);
    webhook_body(&ev, id, &s);
    cJSON *j = parse_body(&s, "webhook");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "id");
    CHECK(cJSON_IsString(v) && strcmp(v->valuestring, id) == 0);
    v = cJSON_GetObjectItemCaseSensitive(j, "features");
    CHECK(cJSON_GetArraySize(v) == NF);
    v = cJSON_GetArrayItem(v, 3);
    v = cJSON_GetObjectItemCaseSensitive(v, "name");
    CHECK(cJSON_IsString(v) && strcmp(v->valuestring, names[3]) == 0);
    cJSON_Delete(j);

    sbuf_reset(&s);
    slack_body(&ev, id, &s);
    j = parse_body(&s, "Slack");
    const cJSON *blocks = cJSON_GetObjectItemCaseSensitive(j, "blocks");
    v = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(blocks, 0), "block_id");
    CHECK(cJSON_IsString(v) && strcmp(v->valuestring, id) == 0);
    /* the table: each row's first column is 22 characters, then a space */
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(blocks, 1), "text");
    t = cJSON_GetObjectItemCaseSensitive(t, "text");
    CHECK(cJSON_IsString(t));
    size_t rows = 0;
    for (const char *line = t ? strchr(t->valuestring, '\n') : NULL;
         line && line[1] != '`' && strncmp(line + 1, "...", 3); line = strchr(line + 1, '\n')) {
        const char *p = line + 1;
        size_t chars = 0;
        while (chars < 22 && *p) {
            p++;
            while (((unsigned char)*p & 0xC0) == 0x80)
                p++;
            chars++;
        }
        /* the name up to where it ends or is cut, then spaces */
        size_t col = (size_t)(p - line - 1), nl = strlen(names[rows]);
        size_t same = nl < col ? nl : col;
        bool padded = strspn(line + 1 + same, " ") >= col - same;
        CHECKF(*p == ' ' && strncmp(line + 1, names[rows], same) == 0 && padded,
               "row %zu: \"%.40s\"", rows, line + 1);
        rows++;
    }
    CHECKF(rows == 20, "%zu table rows", rows);
    cJSON_Delete(j);

    /* invalid bytes in a name become U+FFFD, not an invalid body */
    feats[0].name = "bad\xff\xfe name \xd0";
    sbuf_reset(&s);
    webhook_body(&ev, id, &s);
    j = parse_body(&s, "webhook with invalid bytes");
    CHECK(strstr(s.data, "bad\xef\xbf\xbd\xef\xbf\xbd name \xef\xbf\xbd") != NULL);
    cJSON_Delete(j);
    feats[0].name = names[0];
    sbuf_reset(&s);
    alert_json_text(&s, "ab\xd0", 3); /* a value cut inside a Cyrillic letter */
    CHECKF(s.len == 7 && memcmp(s.data, "\"ab\xef\xbf\xbd\"", 7) == 0, "got %s", s.data);
    sbuf_free(&s);
}

static void test_ids(void)
{
    enum { N = 2000 };
    char(*ids)[ALERT_ID_LEN] = calloc(N, sizeof(*ids));
    CHECK(ids != NULL);
    if (ids == NULL)
        return;
    for (size_t i = 0; i < N; i++) {
        alert_new_id(ids[i]);
        const char *d = ids[i];
        CHECKF(strlen(d) == 36 && d[8] == '-' && d[13] == '-' && d[18] == '-' && d[23] == '-' &&
                   d[14] == '4' && strchr("89ab", d[19]) != NULL,
               "not a UUIDv4: %s", d);
    }
    size_t same = 0;
    for (size_t i = 0; i < N; i++)
        for (size_t k = i + 1; k < N; k++)
            same += strcmp(ids[i], ids[k]) == 0;
    CHECKF(same == 0, "%zu repeated ids in %d", same, N);
    free(ids);
}

int main(void)
{
    make_decision();
    test_cut();
    test_valid();
    test_format();
    test_summary();
    test_bodies();
    test_ids();
    return tl_done();
}
