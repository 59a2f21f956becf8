/*
 * libcurl loaded when outbound HTTP is first needed, not at exec.
 *
 * Linking libcurl made every driftd process (check, baseline, --help) map
 * it and the ~30 libraries it needs (TLS, Kerberos, LDAP, SSH...), ~3 ms
 * before main. curl_dl.c instead defines the libcurl functions driftd calls
 * (curl_global_init, curl_easy_*, curl_multi_*, curl_slist_*, curl_getdate,
 * the two strerrors) with curl.h's own prototypes, so callers and curl's
 * compile-time option checks are unchanged, and forwards each to the
 * library, dlopen'ed on the first call of any of them. Before a successful
 * load each returns an error (CURLE_FAILED_INIT, CURLM_BAD_HANDLE, NULL,
 * -1): none ever calls through a NULL pointer.
 */
#ifndef DRIFTD_ALERTS_CURL_DL_H
#define DRIFTD_ALERTS_CURL_DL_H

#include <stdbool.h>

/* The library loaded: its soname, libcurl's ABI since 2006. */
#define CURL_DL_SONAME "libcurl.so.4"

/* Load libcurl once (later calls give the first answer): 0, or -1 with
 * curl_dl_error() saying why. Every function of the shim calls it. */
int curl_dl_load(void);

/* Whether libcurl was loaded with every function the shim forwards to. */
bool curl_dl_loaded(void);

/* Why loading failed, naming the library and dlerror()'s message; "" when
 * it did not fail (loaded, or not tried yet). */
const char *curl_dl_error(void);

/* Tests only: load soname instead of CURL_DL_SONAME (a missing library);
 * no effect once loading was tried. */
void curl_dl_test_soname(const char *soname);

#endif
