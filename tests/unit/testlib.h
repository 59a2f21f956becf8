/*
 * A very small test harness: checks count instead of aborting, so one run
 * reports every failing assertion; tl_done() prints "N passed, N failed"
 * and returns the exit status.
 */
#ifndef DRIFTD_TESTLIB_H
#define DRIFTD_TESTLIB_H

#include <cjson/cJSON.h>
#include <stddef.h>

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

#endif
