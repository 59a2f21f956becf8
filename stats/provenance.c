/*
 * The provenance of a baseline (docs/statistics.md, "Provenance"): its
 * labels, the check of its timestamp, its JSON. Parsing is in baseline.c,
 * beside the rest of the file's validation.
 */
#include "stats/baseline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void stats_provenance_free(struct stats_provenance *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nlabels; i++) {
        free(p->labels[i].key);
        free(p->labels[i].value);
    }
    free(p->labels);
    free(p->input_path);
    free(p->input_format);
    free(p->driftd_version);
    free(p->created_at);
    free(p);
}

const char *stats_baseline_label(const struct stats_baseline *b, const char *key)
{
    if (b == NULL || b->provenance == NULL)
        return NULL;
    const struct stats_provenance *p = b->provenance;
    for (size_t i = 0; i < p->nlabels; i++)
        if (strcmp(p->labels[i].key, key) == 0)
            return p->labels[i].value;
    return NULL;
}

bool stats_label_key_valid(const char *key, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = key[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

int stats_provenance_add_label(struct stats_provenance *p, const char *key, const char *value)
{
    size_t at = 0;
    while (at < p->nlabels && strcmp(p->labels[at].key, key) < 0)
        at++;
    if (at < p->nlabels && strcmp(p->labels[at].key, key) == 0)
        return 1;
    struct stats_label *l = realloc(p->labels, (p->nlabels + 1) * sizeof(*l));
    if (l == NULL)
        return -1;
    p->labels = l;
    char *k = strdup(key), *v = strdup(value);
    if (k == NULL || v == NULL) {
        free(k);
        free(v);
        return -1;
    }
    memmove(&l[at + 1], &l[at], (p->nlabels - at) * sizeof(*l));
    l[at].key = k;
    l[at].value = v;
    p->nlabels++;
    return 0;
}

/* Whether s[0..n) are n decimal digits; their value in *out. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Days in a month of the proleptic Gregorian calendar (RFC 3339, 5.7). */
static int month_days(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

bool stats_time_check(const char *s, char *why, size_t whylen)
{
    static const char shape[] = "expected an RFC 3339 time in UTC, YYYY-MM-DDTHH:MM:SSZ "
                                "(e.g. 2026-12-04T10:00:00Z)";
    int year, month, day, hour, min, sec;

    if (!digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &month) || s[7] != '-' ||
        !digits(s + 8, 2, &day)) {
        snprintf(why, whylen, "%s; the date is not YYYY-MM-DD", shape);
        return false;
    }
    if (s[10] != 'T') {
        snprintf(why, whylen, "%s; the date and the time are separated by T", shape);
        return false;
    }
    if (!digits(s + 11, 2, &hour) || s[13] != ':' || !digits(s + 14, 2, &min) || s[16] != ':' ||
        !digits(s + 17, 2, &sec)) {
        snprintf(why, whylen, "%s; the time is not HH:MM:SS", shape);
        return false;
    }
    if (month < 1 || month > 12) {
        snprintf(why, whylen, "month %02d is not 01 to 12", month);
        return false;
    }
    if (day < 1 || day > month_days(year, month)) {
        snprintf(why, whylen, "day %02d is not in %04d-%02d, which has %d days", day, year, month,
                 month_days(year, month));
        return false;
    }
    /* a leap second is :60, and only at the end of a UTC day */
    if (hour > 23 || min > 59 || sec > 60 || (sec == 60 && (hour != 23 || min != 59))) {
        snprintf(why, whylen, "%02d:%02d:%02d is not a time of day", hour, min, sec);
        return false;
    }
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') {
            snprintf(why, whylen, "%s; a fraction of a second needs digits after the point", shape);
            return false;
        }
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'Z' && p[1] == '\0')
        return true;
    if (*p == '+' || *p == '-' || *p == 'z')
        snprintf(why, whylen, "not UTC as driftd writes it: end the time with Z, not \"%.8s\"", p);
    else if (*p == 'Z')
        snprintf(why, whylen, "unexpected text after the Z: \"%.16s\"", p + 1);
    else
        snprintf(why, whylen, "%s; the time zone is missing (end the time with Z)", shape);
    return false;
}

void stats_labels_json(const struct stats_provenance *p, struct sbuf *out)
{
    sbuf_addc(out, '{');
    for (size_t i = 0; p != NULL && i < p->nlabels; i++) {
        if (i > 0)
            sbuf_adds(out, ", ");
        sbuf_add_json_string(out, p->labels[i].key, strlen(p->labels[i].key));
        sbuf_adds(out, ": ");
        sbuf_add_json_string(out, p->labels[i].value, strlen(p->labels[i].value));
    }
    sbuf_addc(out, '}');
}

void stats_provenance_json(const struct stats_provenance *p, struct sbuf *out)
{
    sbuf_adds(out, "{\"input\": {\"path\": ");
    sbuf_add_json_string(out, p->input_path, strlen(p->input_path));
    sbuf_printf(
        out, ", \"sha256\": \"%s\", \"bytes\": %llu, \"rows\": %llu, \"format\": ", p->input_sha256,
        (unsigned long long)p->input_bytes, (unsigned long long)p->input_rows);
    sbuf_add_json_string(out, p->input_format, strlen(p->input_format));
    sbuf_printf(out, "},\n  \"sample\": {\"max_sample\": %llu, \"seed\": %llu, \"rows\": %llu},\n",
                (unsigned long long)p->max_sample, (unsigned long long)p->seed,
                (unsigned long long)p->sample_rows);
    sbuf_adds(out, "  \"driftd_version\": ");
    sbuf_add_json_string(out, p->driftd_version, strlen(p->driftd_version));
    if (p->created_at != NULL) {
        sbuf_adds(out, ",\n  \"created_at\": ");
        sbuf_add_json_string(out, p->created_at, strlen(p->created_at));
    }
    sbuf_adds(out, ",\n  \"labels\": ");
    stats_labels_json(p, out);
    sbuf_addc(out, '}');
}
