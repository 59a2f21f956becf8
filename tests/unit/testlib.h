/*
 * A very small test harness: checks count instead of aborting, so one run
 * reports every failing assertion; tl_done() prints "N passed, N failed"
 * and returns the exit status.
 *
 * Beside the checks, the scaffolding the tests of alerts/ share: an
 * injected clock, temporary directories, log lines kept in memory, the
 * event loop run until a condition holds, and a loopback HTTP server that
 * records what it receives and answers from a script. None of these helpers
 * counts as a check: a test's number of checks is its own.
 */
#ifndef DRIFTD_TESTLIB_H
#define DRIFTD_TESTLIB_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <sys/types.h>
#include <stddef.h>

struct event_base;
struct evhttp_request;

extern int tl_passed, tl_failed;

/* Record one check; print file:line and the message when it fails. */
int tl_check(int ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* |got - want| <= abs_tol or <= rel_tol * |want|; NAN equals NAN, inf equals inf. */
int tl_close(double got, double want, double abs_tol, double rel_tol);

#define CHECK(cond) tl_check(!!(cond), __FILE__, __LINE__, "%s", #cond)
#define CHECKF(cond, ...) tl_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_CLOSE(got, want, abs_tol, rel_tol, what)                                             \
    tl_check(tl_close((got), (want), (abs_tol), (rel_tol)), __FILE__, __LINE__,                    \
             "%s: got %.17g want %.17g", (what), (double)(got), (double)(want))

/* Parse tests/<relpath> (a golden fixture) as JSON; aborts the test on failure. */
cJSON *tl_load_json(const char *relpath);

/* Read a JSON number, or NAN for null, "nan"; "inf"/"-inf" strings map to infinities. */
double tl_num(const cJSON *item);

/* Print the summary line and return the process exit status. */
int tl_done(void);

/* Does s match the extended regular expression re? (false when re is not one) */
bool tl_matches(const char *s, const char *re);

/* The injected clock's time, which a test sets and moves as it likes; it
 * starts at 1800000000 (2027-01-15T08:00:00Z). */
extern double tl_time;

/* The clock to hand the code under test: returns tl_time. */
double tl_now(void);

/* Make a new directory /tmp/driftd-<name>.XXXXXX and return its path, to
 * give back to tl_tmpdir_remove; exits the test with status 1 when it
 * cannot. */
char *tl_tmpdir(const char *name);

/* Remove dir and everything in it, then free the path; a failure is only
 * reported on stderr, the checks are done by then. */
void tl_tmpdir_remove(char *dir);

/* Entries of dir whose names end in suffix and are longer than it (0 when
 * dir cannot be read). */
size_t tl_count_files(const char *dir, const char *suffix);

/* From now on, log lines (lib/log.h) are kept in memory instead of printed. */
void tl_log_capture(void);

/* Forget the lines kept so far; capturing goes on. */
void tl_log_clear(void);

/* Print log lines again, and forget those kept. */
void tl_log_stop(void);

/* All lines kept since the last clear, each followed by "\n" ("" when none). */
const char *tl_log_text(void);

/* How many lines kept are at max_level or more severe (LOG_DEBUG: all). */
size_t tl_log_count(int max_level);

/* The last line kept at max_level or more severe, or "" when none. */
const char *tl_log_last(int max_level);

/* Line i kept (from 0) with its level in *level; "" and -1 past the last. */
const char *tl_log_line(size_t i, int *level);

/* A condition for tl_run_until. */
typedef bool (*tl_cond_fn)(void *arg);

/* Run base in 10 ms slices until done(arg) holds or about `seconds` pass;
 * returns done(arg). */
bool tl_run_until(struct event_base *base, tl_cond_fn done, void *arg, double seconds);

/* Run base for about `seconds` in 10 ms slices, whatever happens: time for
 * an answer to travel back once the condition a test waits for holds. */
void tl_run_for(struct event_base *base, double seconds);

/* One header of a recorded request. */
struct tl_header {
    char *name, *value;
};

/* One request as the loopback server received it; the server owns it. */
struct tl_request {
    char *method; /* "POST", "GET", ... */
    char *path;   /* the URI as sent, query included */
    struct tl_header *headers;
    size_t n_headers;
    char *body; /* body_len bytes and a '\0' */
    size_t body_len;
    cJSON *json; /* the body parsed, or NULL when it is not JSON */
};

/* The value of header name (in any case) in r, or "" when r has none. */
const char *tl_request_header(const struct tl_request *r, const char *name);

/* One scripted answer: the status, a Retry-After value or NULL, a body or NULL. */
struct tl_answer {
    int status;
    const char *retry_after;
    const char *body;
};

/* An answer made by the test in place of the script, from the request as
 * recorded; it must send the reply on req. */
typedef void (*tl_responder_fn)(struct evhttp_request *req, const struct tl_request *got,
                                void *arg);

struct tl_server;

/* A server on 127.0.0.1, on a port the kernel picks, served by base's loop;
 * it answers 200 "ok" until told otherwise. NULL when it cannot listen. */
struct tl_server *tl_server_new(struct event_base *base);

/* Stop listening and free the server with every request it kept. */
void tl_server_free(struct tl_server *srv);

/* The port the server listens on. */
int tl_server_port(const struct tl_server *srv);

/* "http://127.0.0.1:<port>", without a trailing slash. */
const char *tl_server_url(const struct tl_server *srv);

/* Answer the next n requests with answers[0..n-1] (copied; the strings
 * must outlive the script), the ones after them with 200 "ok"; the requests
 * received so far are forgotten, so that counts start with the script. */
void tl_server_script(struct tl_server *srv, size_t n, const struct tl_answer *answers);

/* Let fn answer every request from now on instead of the script. */
void tl_server_respond(struct tl_server *srv, tl_responder_fn fn, void *arg);

/* Requests received since the server began, or since the last script or clear. */
size_t tl_server_count(const struct tl_server *srv);

/* Request i of those (from 0), or NULL past the last. */
const struct tl_request *tl_server_request(const struct tl_server *srv, size_t i);

/* The last request's body, or "" when none was received. */
const char *tl_server_last_body(const struct tl_server *srv);

/* Forget the requests received so far. */
void tl_server_clear(struct tl_server *srv);

/* Run the server's loop until n requests have arrived or about `seconds`
 * pass; returns whether they arrived. */
bool tl_server_wait(struct tl_server *srv, size_t n, double seconds);

/* A server answered by fn in a child process of its own, for a client
 * that runs a loop of its own in the test (the child's port in *port).
 * The child's pid, to kill when done, or -1. */
pid_t tl_server_fork(tl_responder_fn fn, void *arg, int *port);

#endif
