/*
 * alerts/curl_dl.c when libcurl cannot be loaded (a soname that does not
 * exist stands for a missing libcurl.so.4): http_client_new fails and
 * logs why, naming the library and dlerror()'s message; every function of
 * the shim answers with an error or NULL and calls nothing; Retry-After in
 * seconds is still read (only the HTTP-date form needs libcurl).
 */
#include "alerts/curl_dl.h"
#include "alerts/http_client.h"
#include "lib/log.h"
#include "testlib.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <math.h>
#include <string.h>

#define ABSENT "libcurl-absent-driftd-test.so.4"

int main(void)
{
    curl_dl_test_soname(ABSENT);
    tl_log_capture();
    struct event_base *base = event_base_new();
    CHECK(base != NULL);
    CHECK(http_client_new(base, "driftd-test") == NULL);
    const char *line = tl_log_last(LOG_ERR);
    CHECKF(strstr(line, "cannot load " ABSENT ": ") != NULL &&
               strstr(line, "cannot open shared object file") != NULL,
           "logged: %s", line);
    CHECK(!curl_dl_loaded());
    CHECKF(strstr(curl_dl_error(), ABSENT) != NULL, "error: %s", curl_dl_error());

    /* Each function, with what a caller could hand it without a library. */
    CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_FAILED_INIT);
    CHECK(curl_easy_init() == NULL);
    CHECK(curl_easy_setopt(NULL, CURLOPT_URL, "http://127.0.0.1/") == CURLE_FAILED_INIT);
    long status = 7;
    CHECK(curl_easy_getinfo(NULL, CURLINFO_RESPONSE_CODE, &status) == CURLE_FAILED_INIT);
    CHECK(status == 7);
    curl_easy_cleanup(NULL);
    CHECK(strstr(curl_easy_strerror(CURLE_OK), ABSENT) != NULL);
    CHECK(curl_getdate("Sun, 06 Nov 1994 08:49:37 GMT", NULL) == -1);
    CHECK(curl_multi_init() == NULL);
    CHECK(curl_multi_cleanup(NULL) == CURLM_BAD_HANDLE);
    CHECK(curl_multi_add_handle(NULL, NULL) == CURLM_BAD_HANDLE);
    CHECK(curl_multi_remove_handle(NULL, NULL) == CURLM_BAD_HANDLE);
    CHECK(curl_multi_setopt(NULL, CURLMOPT_MAXCONNECTS, 1L) == CURLM_BAD_HANDLE);
    CHECK(curl_multi_assign(NULL, 0, NULL) == CURLM_BAD_HANDLE);
    int running = 5, left = 5;
    CHECK(curl_multi_socket_action(NULL, CURL_SOCKET_TIMEOUT, 0, &running) == CURLM_BAD_HANDLE);
    CHECK(curl_multi_info_read(NULL, &left) == NULL && left == 0);
    CHECK(strstr(curl_multi_strerror(CURLM_OK), ABSENT) != NULL);
    CHECK(curl_slist_append(NULL, "X: y") == NULL);
    curl_slist_free_all(NULL);

    CHECK(http_parse_retry_after("120", 0) == 120);
    CHECK(isnan(http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 0)));
    /* Loading is tried once: the answer stays. */
    CHECK(curl_dl_load() == -1);

    event_base_free(base);
    return tl_done();
}
