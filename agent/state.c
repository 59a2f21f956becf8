/*
 * State under state_dir/state.json, written atomically (temp file, fsync,
 * rename): window numbering, the last evaluation, alert state, and per
 * input its counters and, for tail inputs, the file position. Counters and
 * positions are saved together, which is what makes tail counting exact.
 */
#include "agent/daemon.h"

#include "agent/input.h"
#include "agent/log.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* state_dir/NAME, malloc'd. */
static char *state_file(const struct daemon *d, const char *name)
{
    size_t n = strlen(d->cfg.state_dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", d->cfg.state_dir, name);
    return p;
}

static char *state_path(const struct daemon *d)
{
    return state_file(d, "state.json");
}

int state_save(struct daemon *d)
{
    struct sbuf s;
    sbuf_init(&s);
    sbuf_printf(&s,
                "{\"version\": 1, \"window_id\": %llu, \"windows_evaluated\": %llu, "
                "\"sampled_total\": %llu, \"consecutive_drift\": %llu, \"last_eval_at\": %.3f,\n",
                (unsigned long long)d->next_window_id, (unsigned long long)d->windows_evaluated,
                (unsigned long long)d->sampled_total, (unsigned long long)d->consecutive_drift,
                d->last_eval_at);
    char *al = alerts_state_json(d->alerts);
    sbuf_printf(&s, "\"alerts\": %s,\n\"inputs\": [", al ? al : "null");
    free(al);
    for (size_t i = 0; i < d->n_inputs; i++) {
        struct source *in = &d->inputs[i];
        sbuf_adds(&s, i ? ",\n  {\"name\": " : "\n  {\"name\": ");
        sbuf_add_json_string(&s, in->name, strlen(in->name));
        sbuf_printf(&s, ", \"records\": %llu, \"rejected\": %llu, \"reasons\": [",
                    (unsigned long long)in->records, (unsigned long long)in->rejected);
        for (int r = 0; r < REJ_COUNT; r++)
            sbuf_printf(&s, "%s%llu", r ? ", " : "", (unsigned long long)in->reasons[r]);
        sbuf_adds(&s, "]");
        if (in->type == INPUT_TAIL) {
            uint64_t dev, ino, off;
            tail_position(in, &dev, &ino, &off);
            sbuf_printf(&s, ", \"dev\": %llu, \"ino\": %llu, \"offset\": %llu",
                        (unsigned long long)dev, (unsigned long long)ino, (unsigned long long)off);
        }
        sbuf_adds(&s, "}");
    }
    sbuf_printf(&s, "],\n\"retrain\": {\"last_dispatch_at\": %.3f, \"cooldown_until\": %.3f",
                d->last_dispatch_at, d->cooldown_until);
    if (d->github != NULL) {
        const struct github_state *g = github_state(d->github);
        const char *keys[] = {"result",     "message",        "run_url",
                              "run_status", "run_conclusion", "correlation_id"};
        const char *vals[] = {g->result,     g->message,        g->run_url,
                              g->run_status, g->run_conclusion, g->correlation_id};
        for (int i = 0; i < 6; i++) {
            sbuf_printf(&s, ", \"%s\": ", keys[i]);
            sbuf_add_json_string(&s, vals[i], strlen(vals[i]));
        }
        sbuf_printf(&s,
                    ", \"http_status\": %ld, \"run_id\": %llu, \"ok\": %llu, \"failed\": %llu, "
                    "\"dry_runs\": %llu",
                    g->http_status, (unsigned long long)g->run_id, (unsigned long long)g->ok,
                    (unsigned long long)g->failed, (unsigned long long)g->dry_runs);
    }
    sbuf_adds(&s, "},\n\"last_evaluation\": ");
    sbuf_adds(&s, d->last_json ? d->last_json : "null");
    sbuf_adds(&s, "}\n");
    char *path = state_path(d);
    int rc = -1;
    if (sbuf_failed(&s) || path == NULL)
        log_err("state: out of memory");
    else if (write_file_atomic(path, s.data, s.len) != 0)
        log_err("state: cannot write %s: %s", path, strerror(errno));
    else
        rc = 0;
    if (rc == 0)
        d->state_dirty = false;
    free(path);
    sbuf_free(&s);
    return rc;
}

static uint64_t u64(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 ? (uint64_t)v->valuedouble : 0;
}

int state_load(struct daemon *d)
{
    char *path = state_path(d);
    size_t len;
    char *text = path ? read_file(path, &len) : NULL;
    if (text == NULL) {
        if (errno != ENOENT)
            log_warn("state: cannot read %s: %s; starting afresh", path ? path : "state.json",
                     strerror(errno));
        free(path);
        return 0;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(root) || u64(root, "version") != 1) {
        log_warn("state: %s is not a driftd state file; starting afresh", path);
        cJSON_Delete(root);
        free(path);
        return 0;
    }
    d->next_window_id = u64(root, "window_id");
    if (d->next_window_id == 0)
        d->next_window_id = 1;
    d->windows_evaluated = u64(root, "windows_evaluated");
    d->sampled_total = u64(root, "sampled_total");
    d->consecutive_drift = u64(root, "consecutive_drift");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "last_eval_at");
    d->last_eval_at = cJSON_IsNumber(v) ? v->valuedouble : 0;
    const cJSON *al = cJSON_GetObjectItemCaseSensitive(root, "alerts");
    if (cJSON_IsObject(al)) {
        char *t = cJSON_PrintUnformatted(al);
        if (t != NULL)
            alerts_state_load(d->alerts, t, strlen(t));
        free(t);
    }
    const cJSON *le = cJSON_GetObjectItemCaseSensitive(root, "last_evaluation");
    if (cJSON_IsObject(le))
        d->last_json = cJSON_PrintUnformatted(le);
    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(root, "inputs"), *e;
    cJSON_ArrayForEach(e, ins)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
        if (!cJSON_IsString(name))
            continue;
        for (size_t i = 0; i < d->n_inputs; i++) {
            struct source *in = &d->inputs[i];
            if (strcmp(in->name, name->valuestring) != 0)
                continue;
            in->records = u64(e, "records");
            in->rejected = u64(e, "rejected");
            const cJSON *rs = cJSON_GetObjectItemCaseSensitive(e, "reasons");
            for (int r = 0; r < REJ_COUNT && cJSON_IsArray(rs); r++) {
                const cJSON *x = cJSON_GetArrayItem(rs, r);
                in->reasons[r] = cJSON_IsNumber(x) ? (uint64_t)x->valuedouble : 0;
            }
            if (in->type == INPUT_TAIL && cJSON_GetObjectItemCaseSensitive(e, "ino") != NULL)
                tail_restore(in, u64(e, "dev"), u64(e, "ino"), u64(e, "offset"));
        }
    }
    log_info("state: resumed from %s (next window %llu)", path,
             (unsigned long long)d->next_window_id);
    cJSON_Delete(root);
    free(path);
    return 0;
}

/* Copy a string member into a fixed buffer. */
static void take_str(const cJSON *o, const char *key, char *out, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(v))
        snprintf(out, len, "%s", v->valuestring);
}

static void load_retrain_file(struct daemon *d);

void state_load_retrain(struct daemon *d)
{
    char *path = state_path(d);
    size_t len;
    char *text = path ? read_file(path, &len) : NULL;
    free(path);
    if (text == NULL) {
        load_retrain_file(d);
        return;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "retrain");
    if (cJSON_IsObject(r)) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "last_dispatch_at");
        d->last_dispatch_at = cJSON_IsNumber(v) ? v->valuedouble : 0;
        v = cJSON_GetObjectItemCaseSensitive(r, "cooldown_until");
        d->cooldown_until = cJSON_IsNumber(v) ? v->valuedouble : 0;
        if (d->github != NULL) {
            struct github_state g = *github_state(d->github);
            take_str(r, "result", g.result, sizeof(g.result));
            take_str(r, "message", g.message, sizeof(g.message));
            take_str(r, "run_url", g.run_url, sizeof(g.run_url));
            take_str(r, "run_status", g.run_status, sizeof(g.run_status));
            take_str(r, "run_conclusion", g.run_conclusion, sizeof(g.run_conclusion));
            take_str(r, "correlation_id", g.correlation_id, sizeof(g.correlation_id));
            g.http_status = (long)u64(r, "http_status");
            g.run_id = u64(r, "run_id");
            g.ok = u64(r, "ok");
            g.failed = u64(r, "failed");
            g.dry_runs = u64(r, "dry_runs");
            github_restore(d->github, &g);
        }
    }
    cJSON_Delete(root);
    load_retrain_file(d);
}

static char *retrain_path(const struct daemon *d)
{
    return state_file(d, "retrain.json");
}

int state_save_retrain(struct daemon *d)
{
    char buf[160], *path = retrain_path(d);
    int n = snprintf(buf, sizeof(buf), "{\"last_dispatch_at\": %.3f, \"cooldown_until\": %.3f}\n",
                     d->last_dispatch_at, d->cooldown_until);
    int rc = path != NULL ? write_file_atomic(path, buf, (size_t)n) : -1;
    if (rc != 0)
        log_err("state: cannot write %s: %s (the cooldown may not survive a crash)",
                path ? path : "retrain.json", strerror(errno));
    free(path);
    return rc;
}

/* retrain.json, written at each dispatch, wins over an older state.json. */
static void load_retrain_file(struct daemon *d)
{
    char *path = retrain_path(d);
    size_t len;
    char *text = path ? read_file(path, &len) : NULL;
    free(path);
    if (text == NULL)
        return;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "last_dispatch_at");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "cooldown_until");
    if (cJSON_IsNumber(a) && a->valuedouble > d->last_dispatch_at)
        d->last_dispatch_at = a->valuedouble;
    if (cJSON_IsNumber(c) && c->valuedouble > d->cooldown_until)
        d->cooldown_until = c->valuedouble;
    cJSON_Delete(j);
}
