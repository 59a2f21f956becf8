/*
 * The tail source follows a file as it grows (rotation by rename and by
 * copytruncate, a file that does not exist yet, partial last lines). Its
 * position saved in state is the byte after
 * the last complete line fed, saved together with the record counters that
 * include that line, so a restart (even after kill -9) neither re-reads nor
 * skips a line. A file is known by its device and inode, and a position in
 * it by the bytes just before it: copytruncate keeps the inode, and a file
 * truncated and rewritten past the position has other bytes there.
 */
#include "agent/in_tail.h"

#include "agent/source.h"

#include "lib/jnum.h"
#include "lib/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TAIL_POLL_MS 200
#define TAIL_CHUNK (1 << 20)
#define TAIL_MAX_PER_TURN (16u << 20) /* then let the loop serve others */
#define TAIL_FP_BYTES 64              /* the bytes before a position that identify it */

/* A committed position: the byte after the last complete line fed, with
 * the counters that include that line and no later one, and a fingerprint
 * of the bytes before it (a file truncated and rewritten past it in place
 * has other bytes there). */
struct tail_commit {
    uint64_t dev, ino, off;
    uint64_t fp;   /* 64-bit FNV-1a of the fp_len bytes before off */
    size_t fp_len; /* 0: no fingerprint (an older state file) */
    struct source_counts n;
};

struct tail {
    struct source *src;
    int fd;
    dev_t dev;
    ino_t ino;
    uint64_t read_off; /* bytes read from the current file */
    uint64_t line_off; /* just after the last newline fed */
    bool have_saved;   /* state said where we were: saved */
    struct tail_commit saved;
    struct tail_commit commit; /* what a state save writes */
    bool unsaved;              /* commit moved since this input last saved */
    /* Where the records of the oldest window not yet evaluated begin, with
     * the counters before them: a start after a crash (the open window
     * lost) reads again from here, so nothing read is skipped. wpend is
     * where the window after `wpend_id` begins, until that one is finished. */
    struct tail_commit wstart, wpend;
    bool have_wstart, have_wpend;
    uint64_t wpend_id;
    /* The rest of the chunk being fed that no window close has passed over
     * yet (a window closing in it ends at a line in it): each close scans
     * on from the last one, so a chunk is scanned once however many
     * windows close in it. feed_lines: the reader's lines before feed_p. */
    const char *feed_p;
    size_t feed_n;
    uint64_t feed_off, feed_lines;
    unsigned char last[TAIL_FP_BYTES]; /* the last_len bytes before read_off */
    size_t last_len;
    bool seen_file; /* opened a file at least once (start: applies once) */
    bool waiting_logged;
    struct event *timer;
    struct event *more; /* the rest of a long read, after the loop's next poll */
    char *buf;
};

/* 64-bit FNV-1a (Fowler, Noll, Vo) of the up to TAIL_FP_BYTES bytes before
 * off in fd; returns how many were hashed (0: none, or unreadable). */
static size_t fingerprint(int fd, uint64_t off, uint64_t *h)
{
    unsigned char b[TAIL_FP_BYTES];
    size_t n = off < sizeof(b) ? (size_t)off : sizeof(b);
    *h = 14695981039346656037u;
    if (n == 0 || pread(fd, b, n, (off_t)(off - n)) != (ssize_t)n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        *h ^= b[i];
        *h *= 1099511628211u;
    }
    return n;
}

/* Are the bytes before a saved position in fd those that were there when
 * it was saved? (Yes when the state file had no fingerprint.) */
static bool fingerprint_matches(int fd, const struct tail_commit *c)
{
    uint64_t h;
    return c->fp_len == 0 || (fingerprint(fd, c->off, &h) == c->fp_len && h == c->fp);
}

/* Pair the position after the last complete line with the counters that
 * include it. A state save writes this pair whenever it happens (a window
 * closing in the middle of a chunk saves too), so after a kill -9 the
 * input resumes where its counters say. */
static void tail_commit(struct tail *t)
{
    struct source *in = t->src;
    struct tail_commit *c = &t->commit;
    c->dev = (uint64_t)t->dev;
    c->ino = (uint64_t)t->ino;
    c->off = t->line_off;
    c->fp_len = fingerprint(t->fd, t->line_off, &c->fp);
    c->n.records = in->records;
    c->n.rejected = in->rejected;
    memcpy(c->n.reasons, in->reasons, sizeof(c->n.reasons));
    t->unsaved = true;
    source_position_moved(in);
}

/* Go on from off, the start of a line, in the current file. */
static void tail_at(struct tail *t, uint64_t off)
{
    t->read_off = t->line_off = off;
    size_t n = off < TAIL_FP_BYTES ? (size_t)off : TAIL_FP_BYTES;
    if (n > 0 && pread(t->fd, t->last, n, (off_t)(off - n)) != (ssize_t)n)
        n = 0;
    t->last_len = n;
    tail_commit(t);
    if (!t->have_wstart) { /* the first window begins where reading does */
        t->wstart = t->commit;
        t->have_wstart = true;
    }
}

/* Are the bytes before read_off still those read there? A file truncated
 * and rewritten in place between two polls can be longer than read_off
 * already: its size does not tell, its bytes do (unless they are the same). */
static bool tail_unchanged(const struct tail *t)
{
    unsigned char b[TAIL_FP_BYTES];
    if (t->last_len == 0)
        return true;
    return pread(t->fd, b, t->last_len, (off_t)(t->read_off - t->last_len)) ==
               (ssize_t)t->last_len &&
           memcmp(b, t->last, t->last_len) == 0;
}

/* Feed a chunk, keep its last bytes and commit the position just after its
 * last newline with the counters that include its lines. */
static void tail_feed(struct tail *t, const char *p, size_t n)
{
    t->feed_p = p;
    t->feed_n = n;
    t->feed_off = t->read_off;
    t->feed_lines = t->src->reader != NULL ? reader_lines(t->src->reader) : 0;
    source_stream_feed(t->src, p, n);
    t->feed_p = NULL;
    t->read_off += n;
    if (n >= TAIL_FP_BYTES) {
        memcpy(t->last, p + n - TAIL_FP_BYTES, TAIL_FP_BYTES);
        t->last_len = TAIL_FP_BYTES;
    } else {
        size_t keep = t->last_len < TAIL_FP_BYTES - n ? t->last_len : TAIL_FP_BYTES - n;
        memmove(t->last, t->last + t->last_len - keep, keep);
        memcpy(t->last + keep, p, n);
        t->last_len = keep + n;
    }
    for (size_t i = n; i > 0; i--) {
        if (p[i - 1] == '\n') {
            t->line_off = t->read_off - (n - i);
            tail_commit(t);
            break;
        }
    }
}

/* A CSV file resumed in the middle needs its header first. */
static void feed_csv_header(struct tail *t)
{
    char hdr[65536];
    ssize_t n = pread(t->fd, hdr, sizeof(hdr), 0);
    if (n <= 0)
        return;
    char *nl = memchr(hdr, '\n', (size_t)n);
    if (nl == NULL)
        return;
    reader_feed(t->src->reader, hdr, (size_t)(nl - hdr) + 1);
}

/* Offset just after the last newline before `size` (start: end). */
static uint64_t last_line_end(int fd, uint64_t size)
{
    char buf[65536];
    uint64_t end = size;
    while (end > 0) {
        size_t want = end > sizeof(buf) ? sizeof(buf) : (size_t)end;
        ssize_t n = pread(fd, buf, want, (off_t)(end - want));
        if (n <= 0)
            return 0;
        for (size_t i = (size_t)n; i > 0; i--)
            if (buf[i - 1] == '\n')
                return end - want + i;
        end -= want;
    }
    return 0;
}

/* Stop following the current file. */
static void tail_close(struct tail *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}

/*
 * The file that state points at was renamed while driftd was down (kill -9
 * or a stop during logrotate). Why: without this the lines written to it
 * after the saved position were lost, the new file at the path being read
 * from its start. Find it by device and inode beside the path and read it
 * to its end first. It is the current file while it is read, so a state
 * save in between (a window closing) pairs the counters with a position in
 * it. A renamed file that is gone or moved elsewhere cannot be helped.
 */
static void tail_drain_rotated(struct tail *t)
{
    struct source *in = t->src;
    char *dir = strdup(in->conf->path);
    if (dir == NULL)
        return;
    char *slash = strrchr(dir, '/');
    const char *dname = slash == NULL ? "." : slash == dir ? "/" : dir;
    if (slash != NULL && slash != dir)
        *slash = '\0';
    DIR *dp = opendir(dname);
    struct dirent *e;
    struct stat st;
    int fd = -1;
    while (dp != NULL && fd < 0 && (e = readdir(dp)) != NULL) {
        if (fstatat(dirfd(dp), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
            (uint64_t)st.st_dev != t->saved.dev || (uint64_t)st.st_ino != t->saved.ino ||
            (uint64_t)st.st_size < t->saved.off)
            continue;
        fd = openat(dirfd(dp), e->d_name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd >= 0)
            log_info("%s: finishing %s/%s (inode %llu, renamed while stopped) from offset %llu",
                     in->name, dname, e->d_name, (unsigned long long)st.st_ino,
                     (unsigned long long)t->saved.off);
    }
    if (dp != NULL)
        closedir(dp);
    free(dir);
    if (fd < 0)
        return;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_ino != t->saved.ino) {
        close(fd);
        return;
    }
    if (!fingerprint_matches(fd, &t->saved)) {
        log_notice("%s: not finishing inode %llu: the bytes before offset %llu changed while "
                   "stopped (truncated and rewritten)",
                   in->name, (unsigned long long)st.st_ino, (unsigned long long)t->saved.off);
        close(fd);
        return;
    }
    if (!source_stream_open(in)) {
        close(fd);
        return;
    }
    t->fd = fd;
    t->dev = st.st_dev;
    t->ino = st.st_ino;
    if (in->conf->format == READER_CSV && t->saved.off > 0)
        feed_csv_header(t);
    tail_at(t, t->saved.off);
    for (;;) {
        ssize_t n = pread(fd, t->buf, TAIL_CHUNK, (off_t)t->read_off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        tail_feed(t, t->buf, (size_t)n);
    }
    reader_finish(in->reader); /* a last line without newline still counts */
    t->line_off = t->read_off;
    tail_commit(t);
    tail_close(t);
}

static bool tail_open(struct tail *t)
{
    struct source *in = t->src;
    int fd = open(in->conf->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (!t->waiting_logged)
            log_info("%s: waiting for the file (%s)", in->name, strerror(errno));
        t->waiting_logged = true;
        t->seen_file = true; /* a file that appears later is read whole */
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (!t->waiting_logged)
            log_warn("%s: not a regular file; waiting", in->name);
        t->waiting_logged = true;
        close(fd);
        return false;
    }
    t->waiting_logged = false;
    bool same =
        t->have_saved && t->saved.dev == (uint64_t)st.st_dev && t->saved.ino == (uint64_t)st.st_ino;
    if (t->have_saved && !same)
        tail_drain_rotated(t);
    t->fd = fd;
    t->dev = st.st_dev;
    t->ino = st.st_ino;
    uint64_t off = 0;
    const char *why = "from the beginning";
    bool truncated = false;
    if (same && t->saved.off > (uint64_t)st.st_size) {
        why = "from the beginning (truncated while stopped: shorter than the saved offset)";
        truncated = true;
    } else if (same && !fingerprint_matches(fd, &t->saved)) {
        why = "from the beginning (truncated and rewritten while stopped: the bytes before the "
              "saved offset changed)";
        truncated = true;
    } else if (same) {
        off = t->saved.off;
        why = "where it left off";
    } else if (t->have_saved) {
        why = "from the beginning (a new file)";
    } else if (!t->seen_file && in->conf->start == START_END) {
        off = last_line_end(fd, (uint64_t)st.st_size);
        why = "at its end (start: end)";
    }
    t->have_saved = false;
    t->seen_file = true;
    if (!source_stream_open(in))
        return false;
    if (in->conf->format == READER_CSV && off > 0)
        feed_csv_header(t);
    tail_at(t, off);
    log_msg(truncated ? LOG_NOTICE : LOG_INFO, "%s: following (inode %llu) %s, offset %llu",
            in->name, (unsigned long long)st.st_ino, why, (unsigned long long)off);
    return true;
}

/* Read what is new; notice truncation and rotation. */
static void tail_read(struct tail *t)
{
    if (t->fd < 0 && !tail_open(t))
        return;
    struct stat st;
    if (fstat(t->fd, &st) == 0) {
        const char *why = (uint64_t)st.st_size < t->read_off ? "shorter than what was read"
                          : !tail_unchanged(t) ? "the bytes before the read position changed"
                                               : NULL;
        if (why != NULL) {
            log_notice("%s: truncated (copytruncate?): %s (offset %llu of inode %llu); reading "
                       "again from the start",
                       t->src->name, why, (unsigned long long)t->read_off,
                       (unsigned long long)t->ino);
            source_stream_open(t->src);
            tail_at(t, 0);
        }
    }
    size_t total = 0;
    for (;;) {
        ssize_t n = pread(t->fd, t->buf, TAIL_CHUNK, (off_t)t->read_off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        tail_feed(t, t->buf, (size_t)n);
        total += (size_t)n;
        if (total >= TAIL_MAX_PER_TURN) {
            /* The rest after the loop has polled its sockets: a zero
             * timeout, not event_active, which would run before them. */
            static const struct timeval now = {0, 0};
            evtimer_add(t->more, &now);
            return;
        }
    }
    /* At the end of the current file: has the path moved on? */
    struct stat ps;
    if (stat(t->src->conf->path, &ps) != 0 || ps.st_ino != t->ino || ps.st_dev != t->dev) {
        log_notice("%s: rotated; finishing inode %llu and following the new file", t->src->name,
                   (unsigned long long)t->ino);
        reader_finish(t->src->reader); /* a last line without newline still counts */
        t->line_off = t->read_off;
        tail_commit(t);
        tail_close(t);
        t->have_saved = false;
        t->seen_file = true; /* a rotated-in file is read whole */
        if (tail_open(t))
            tail_read(t);
    }
}

static void tail_poll(evutil_socket_t fd_unused, short what, void *arg)
{
    struct tail *t = arg;
    (void)fd_unused, (void)what;
    if (source_stopping(t->src))
        return;
    tail_read(t);
    /* What /metrics shows from now on must survive a kill -9: the counters
     * are saved, with their position, before the loop serves anything else. */
    if (t->unsaved && source_reserve(t->src) == 0)
        t->unsaved = false;
}

/* Make the file's state before the position is restored. */
static struct tail *tail_of(struct source *s)
{
    if (s->ctx == NULL) {
        struct tail *t = calloc(1, sizeof(*t));
        if (t == NULL)
            return NULL;
        t->fd = -1;
        t->src = s;
        s->ctx = t;
    }
    return s->ctx;
}

static int tail_start(struct source *s)
{
    struct tail *t = tail_of(s);
    if (t == NULL)
        return -1;
    /* The window open at the last stop did not come back (a kill -9): its
     * lines are read again from where it began, with the counters before
     * them, so nothing read is skipped and nothing counted twice. */
    if (t->have_saved && t->have_wstart && !s->window_resumed &&
        (t->wstart.ino != t->saved.ino || t->wstart.off != t->saved.off ||
         t->wstart.n.records != t->saved.n.records ||
         t->wstart.n.rejected != t->saved.n.rejected)) {
        log_notice("%s: reading again from offset %llu (inode %llu): the window open at the "
                   "last stop was not kept (%llu records read since)",
                   s->name, (unsigned long long)t->wstart.off, (unsigned long long)t->wstart.ino,
                   (unsigned long long)(t->saved.n.records - t->wstart.n.records));
        t->saved = t->commit = t->wstart;
        s->records = t->wstart.n.records;
        s->rejected = t->wstart.n.rejected;
        memcpy(s->reasons, t->wstart.n.reasons, sizeof(s->reasons));
    }
    /* until a file is read, a save writes the restored pair */
    t->commit.n.records = s->records;
    t->commit.n.rejected = s->rejected;
    memcpy(t->commit.n.reasons, s->reasons, sizeof(t->commit.n.reasons));
    t->buf = malloc(TAIL_CHUNK);
    t->timer = event_new(s->base, -1, EV_PERSIST, tail_poll, t);
    t->more = evtimer_new(s->base, tail_poll, t);
    struct timeval tv = {0, TAIL_POLL_MS * 1000};
    if (t->buf == NULL || t->timer == NULL || t->more == NULL || event_add(t->timer, &tv) != 0)
        return -1;
    tail_poll(-1, 0, t);
    return 0;
}

static void tail_stop(struct source *s)
{
    struct tail *t = s->ctx;
    if (t == NULL)
        return;
    if (t->timer != NULL)
        event_free(t->timer);
    if (t->more != NULL)
        event_free(t->more);
    t->timer = t->more = NULL;
}

/* Column maps are the reader's: a reload remaps them. */
static void tail_reload(struct source *s)
{
    if (s->reader != NULL)
        reader_remap_columns(s->reader);
}

/* A position as JSON members: dev, ino, offset and the fingerprint. */
static void commit_json(const struct tail_commit *p, struct sbuf *out)
{
    sbuf_printf(out, "\"dev\": %llu, \"ino\": %llu, \"offset\": %llu", (unsigned long long)p->dev,
                (unsigned long long)p->ino, (unsigned long long)p->off);
    if (p->fp_len > 0)
        sbuf_printf(out, ", \"fingerprint\": \"%016llx\", \"fingerprint_bytes\": %zu",
                    (unsigned long long)p->fp, p->fp_len);
}

/* The position read to, with its counters, and "window_start": where the
 * oldest window not yet evaluated begins, with the counters before it. */
static void tail_save(const struct source *s, struct source_counts *c, struct sbuf *out)
{
    const struct tail *t = s->ctx;
    if (t == NULL)
        return;
    *c = t->commit.n;
    sbuf_adds(out, ", ");
    commit_json(&t->commit, out);
    if (!t->have_wstart)
        return;
    const struct tail_commit *w = &t->wstart;
    sbuf_adds(out, ", \"window_start\": {");
    commit_json(w, out);
    sbuf_printf(out, ", \"records\": %llu, \"rejected\": %llu, \"reasons\": [",
                (unsigned long long)w->n.records, (unsigned long long)w->n.rejected);
    for (int r = 0; r < READER_ERR_COUNT; r++)
        sbuf_printf(out, "%s%llu", r ? ", " : "", (unsigned long long)w->n.reasons[r]);
    sbuf_adds(out, "]}");
}

/* A counter: o's member key, or o itself when key is NULL. */
static uint64_t u64(const cJSON *o, const char *key)
{
    return jnum_count_or0(key != NULL ? cJSON_GetObjectItemCaseSensitive(o, key) : o);
}

/* A position from its JSON members (counters left to the caller). */
static struct tail_commit commit_of(const cJSON *e)
{
    struct tail_commit c = {.dev = u64(e, "dev"), .ino = u64(e, "ino"), .off = u64(e, "offset")};
    const cJSON *fp = cJSON_GetObjectItemCaseSensitive(e, "fingerprint");
    unsigned long long h;
    if (cJSON_IsString(fp) && sscanf(fp->valuestring, "%16llx", &h) == 1) {
        c.fp = h;
        c.fp_len = (size_t)u64(e, "fingerprint_bytes");
        if (c.fp_len > TAIL_FP_BYTES)
            c.fp_len = 0;
    }
    return c;
}

static void tail_restore(struct source *s, const cJSON *e)
{
    if (cJSON_GetObjectItemCaseSensitive(e, "ino") == NULL)
        return;
    struct tail *t = tail_of(s);
    if (t == NULL)
        return;
    struct tail_commit c = commit_of(e);
    c.n.records = s->records;
    c.n.rejected = s->rejected;
    memcpy(c.n.reasons, s->reasons, sizeof(c.n.reasons));
    t->have_saved = true;
    t->saved = c;
    t->commit = c;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(e, "window_start");
    if (cJSON_IsObject(w) && cJSON_GetObjectItemCaseSensitive(w, "ino") != NULL) {
        t->wstart = commit_of(w);
        t->wstart.n.records = u64(w, "records");
        t->wstart.n.rejected = u64(w, "rejected");
        const cJSON *rs = cJSON_GetObjectItemCaseSensitive(w, "reasons");
        for (int r = 0; r < READER_ERR_COUNT && cJSON_IsArray(rs); r++)
            t->wstart.n.reasons[r] = u64(cJSON_GetArrayItem(rs, r), NULL);
        /* counters before the window cannot exceed those after it */
        bool sane = t->wstart.n.records <= c.n.records && t->wstart.n.rejected <= c.n.rejected;
        for (int r = 0; r < READER_ERR_COUNT; r++)
            sane = sane && t->wstart.n.reasons[r] <= c.n.reasons[r];
        t->have_wstart = sane;
    }
}

/* The window `id` closed: the next one begins after the last line it
 * holds. Inside a feed that is the line whose record closed it (the
 * reader calls back before counting its newline); otherwise every line
 * fed so far is in it. The counters are those of that moment. */
static void tail_window_closed(struct source *s, uint64_t id)
{
    struct tail *t = s->ctx;
    if (t == NULL)
        return;
    struct tail_commit c = t->commit;
    if (t->feed_p != NULL && s->reader != NULL) {
        uint64_t k = reader_lines(s->reader) - t->feed_lines + 1; /* newlines to pass */
        const char *p = t->feed_p, *end = t->feed_p + t->feed_n;
        while (k > 0 && p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (nl == NULL)
                break;
            p = nl + 1;
            k--;
        }
        if (k > 0) /* cannot happen: keep the older, safe, place */
            return;
        c.dev = (uint64_t)t->dev;
        c.ino = (uint64_t)t->ino;
        c.off = t->feed_off + (uint64_t)(p - t->feed_p);
        t->feed_off = c.off;
        t->feed_n = (size_t)(end - p);
        t->feed_p = p;
        t->feed_lines = reader_lines(s->reader) + 1;
        c.fp_len = fingerprint(t->fd, c.off, &c.fp);
        c.n.records = s->records;
        c.n.rejected = s->rejected;
        memcpy(c.n.reasons, s->reasons, sizeof(c.n.reasons));
    }
    t->wpend = c;
    t->wpend_id = id;
    t->have_wpend = true;
}

/* The window `id` was evaluated and its results kept: a crash from now on
 * loses only the windows after it. */
static void tail_window_finished(struct source *s, uint64_t id)
{
    struct tail *t = s->ctx;
    if (t == NULL || !t->have_wpend || t->wpend_id != id)
        return; /* a later window closed meanwhile: its finish moves wstart */
    t->wstart = t->wpend;
    t->have_wstart = true;
    t->have_wpend = false;
    source_position_moved(s);
}

static void tail_status(const struct source *s, struct sbuf *out)
{
    sbuf_adds(out, ", \"path\": ");
    sbuf_add_json_string(out, s->conf->path, strlen(s->conf->path));
}

static void tail_destroy(struct source *s)
{
    struct tail *t = s->ctx;
    if (t == NULL)
        return;
    tail_stop(s);
    if (t->fd >= 0)
        close(t->fd);
    free(t->buf);
    free(t);
    s->ctx = NULL;
}

const struct source_ops in_tail_ops = {
    .type = "tail",
    .start = tail_start,
    .stop = tail_stop,
    .reload = tail_reload,
    .save = tail_save,
    .restore = tail_restore,
    .window_closed = tail_window_closed,
    .window_finished = tail_window_finished,
    .status = tail_status,
    .destroy = tail_destroy,
};
