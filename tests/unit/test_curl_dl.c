/*
 * alerts/curl_dl.c, the libcurl loaded on first use: every kind of
 * argument its variadic functions forward reaches libcurl intact, seen in
 * what a real transfer to a loopback server (a child process) does and in
 * what curl_easy_getinfo reads back:
 *   setopt long      CURLOPT_PORT (the URL has none), CURLOPT_MAXFILESIZE
 *                    above 2^32 (cut to 32 bits it would refuse the body);
 *   object pointer   CURLOPT_URL, CURLOPT_HTTPHEADER (the server sees the
 *                    header), CURLOPT_PRIVATE (read back), CURLOPT_COOKIEFILE;
 *   function pointer CURLOPT_WRITEFUNCTION with CURLOPT_WRITEDATA;
 *   curl_off_t       CURLOPT_POSTFIELDSIZE_LARGE (3 of 6 bytes sent),
 *                    CURLOPT_MAXFILESIZE_LARGE above 2^32 and below the body;
 *   blob             CURLOPT_CAINFO_BLOB: a CA blob that is no certificate
 *                    fails the TLS set-up with CURLE_SSL_CACERT_BADFILE (a
 *                    blob lost on the way would fail the handshake instead);
 *   getinfo          string, long, double, off_t, slist (the cookie the
 *                    server set) and socket answers, and an unknown type;
 *   multi setopt     long, off_t, object and function pointers (the timer
 *                    callback called with its data), and an unknown option.
 * The calls go through the shim: it says it loaded libcurl. Transfers run
 * on a multi handle (perform below), as the daemon's do.
 */
#include "alerts/curl_dl.h"
#include "testlib.h"

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The server's answer: the request's X-Shim header and body in the body,
 * a cookie, a content type of its own; /big answers 100 bytes. */
static void serve(struct evhttp_request *req, const struct tl_request *got, void *arg)
{
    (void)arg;
    struct evbuffer *out = evbuffer_new();
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Connection", "close");
    evhttp_add_header(h, "Content-Type", "text/x-shim");
    evhttp_add_header(h, "Set-Cookie", "shim=forwarded; Path=/");
    if (strcmp(got->path, "/big") == 0)
        evbuffer_add_printf(out, "%0100d", 7);
    else
        evbuffer_add_printf(out, "x-shim=%s body=%.*s", tl_request_header(got, "X-Shim"),
                            (int)got->body_len, got->body);
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

/* curl_easy_perform is not one of the functions driftd calls, so the shim
 * has none: a transfer runs on a multi handle driven with poll(2), through
 * the shim's socket, timer and action calls as the daemon's loop drives
 * them. */
struct driver {
    struct pollfd fds[8];
    nfds_t n;
    long timeout_ms;
};

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct driver *d = userp;
    (void)easy, (void)socketp;
    nfds_t i = 0;
    while (i < d->n && d->fds[i].fd != s)
        i++;
    if (what == CURL_POLL_REMOVE) {
        if (i < d->n)
            d->fds[i] = d->fds[--d->n];
        return 0;
    }
    if (i == d->n) {
        if (d->n == sizeof(d->fds) / sizeof(d->fds[0]))
            return -1;
        d->n++;
    }
    d->fds[i].fd = s;
    d->fds[i].events =
        (short)(((what & CURL_POLL_IN) ? POLLIN : 0) | ((what & CURL_POLL_OUT) ? POLLOUT : 0));
    return 0;
}

static int on_driver_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct driver *d = userp;
    (void)multi;
    d->timeout_ms = timeout_ms;
    return 0;
}

/* Run e's transfer to its end (at most ~10 s); its result code. */
static CURLcode perform(CURL *e)
{
    struct driver d = {.timeout_ms = -1};
    CURLM *m = curl_multi_init();
    if (m == NULL)
        return CURLE_FAILED_INIT;
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, &d);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_driver_timer);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, &d);
    CURLcode result = CURLE_OPERATION_TIMEDOUT;
    int running = 1;
    if (curl_multi_add_handle(m, e) != CURLM_OK) {
        curl_multi_cleanup(m);
        return CURLE_FAILED_INIT;
    }
    for (int rounds = 0; running > 0 && rounds < 1000; rounds++) {
        int wait = d.timeout_ms < 0 || d.timeout_ms > 10 ? 10 : (int)d.timeout_ms;
        struct pollfd fds[8];
        nfds_t n = d.n;
        memcpy(fds, d.fds, sizeof(fds));
        int ready = poll(fds, n, wait);
        if (ready <= 0) {
            curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
            continue;
        }
        for (nfds_t i = 0; i < n; i++) {
            int ev = ((fds[i].revents & POLLIN) ? CURL_CSELECT_IN : 0) |
                     ((fds[i].revents & POLLOUT) ? CURL_CSELECT_OUT : 0) |
                     ((fds[i].revents & (POLLERR | POLLHUP)) ? CURL_CSELECT_ERR : 0);
            if (ev != 0)
                curl_multi_socket_action(m, fds[i].fd, ev, &running);
        }
    }
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == e)
            result = msg->data.result;
    curl_multi_remove_handle(m, e);
    curl_multi_cleanup(m);
    return result;
}

struct sink {
    char buf[512];
    size_t len;
};

static size_t keep(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * nmemb;
    size_t room = sizeof(s->buf) - 1 - s->len;
    memcpy(s->buf + s->len, ptr, n < room ? n : room);
    s->len += n < room ? n : room;
    s->buf[s->len] = '\0';
    return n;
}

/* A POST of 3 of 6 bytes with a header, the port given apart from the URL:
 * the answer and every getinfo type read back. */
static void post_and_read_back(int port)
{
    CURL *e = curl_easy_init();
    CHECK(e != NULL);
    if (e == NULL)
        return;
    struct sink s = {0};
    struct curl_slist *hs = curl_slist_append(NULL, "X-Shim: header-forwarded");
    char priv[] = "private";
    CHECK(curl_easy_setopt(e, CURLOPT_URL, "http://127.0.0.1/echo") == CURLE_OK);
    CHECK(curl_easy_setopt(e, CURLOPT_PORT, (long)port) == CURLE_OK);
    CHECK(curl_easy_setopt(e, CURLOPT_HTTPHEADER, hs) == CURLE_OK);
    CHECK(curl_easy_setopt(e, CURLOPT_PRIVATE, priv) == CURLE_OK);
    CHECK(curl_easy_setopt(e, CURLOPT_COOKIEFILE, "") == CURLE_OK);
    CHECK(curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep) == CURLE_OK);
    CHECK(curl_easy_setopt(e, CURLOPT_WRITEDATA, &s) == CURLE_OK);
    CHECK(curl_easy_setopt(e, CURLOPT_POSTFIELDS, "abcdef") == CURLE_OK);
    CHECK(curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)3) == CURLE_OK);
    CURLcode rc = perform(e);
    CHECKF(rc == CURLE_OK, "perform: %s", curl_easy_strerror(rc));
    CHECKF(strcmp(s.buf, "x-shim=header-forwarded body=abc") == 0, "body: %s", s.buf);

    long code = 0, primary_port = 0;
    CHECK(curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code == 200);
    CHECK(curl_easy_getinfo(e, CURLINFO_PRIMARY_PORT, &primary_port) == CURLE_OK);
    CHECKF(primary_port == port, "primary port %ld, want %d", primary_port, port);
    char *got_priv = NULL, *type = NULL;
    CHECK(curl_easy_getinfo(e, CURLINFO_PRIVATE, &got_priv) == CURLE_OK && got_priv == priv);
    CHECK(curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK);
    CHECKF(type != NULL && strcmp(type, "text/x-shim") == 0, "content type %s", type);
    double total = -1;
    CHECK(curl_easy_getinfo(e, CURLINFO_TOTAL_TIME, &total) == CURLE_OK);
    CHECKF(total >= 0 && total < 60, "total time %g", total);
    curl_off_t up = -1, down = -1;
    CHECK(curl_easy_getinfo(e, CURLINFO_SIZE_UPLOAD_T, &up) == CURLE_OK && up == 3);
    CHECK(curl_easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &down) == CURLE_OK);
    CHECKF(down == (curl_off_t)s.len, "downloaded %lld, kept %zu", (long long)down, s.len);
    struct curl_slist *cookies = NULL;
    CHECK(curl_easy_getinfo(e, CURLINFO_COOKIELIST, &cookies) == CURLE_OK);
    CHECKF(cookies != NULL && strstr(cookies->data, "shim\tforwarded") != NULL, "cookie %s",
           cookies ? cookies->data : "(none)");
    curl_slist_free_all(cookies);
    curl_socket_t sock = -12345;
    CHECK(curl_easy_getinfo(e, CURLINFO_ACTIVESOCKET, &sock) == CURLE_OK && sock != -12345);
    long unknown = 0;
    CHECK(curl_easy_getinfo(e, (CURLINFO)(0x700000 + 1), &unknown) == CURLE_UNKNOWN_OPTION);
    curl_easy_cleanup(e);
    curl_slist_free_all(hs);
}

/* GET /big (100 bytes) with a size limit set as a long or as an off_t. */
static CURLcode get_big(int port, CURLoption opt, long as_long, curl_off_t as_off)
{
    CURL *e = curl_easy_init();
    if (e == NULL)
        return CURLE_FAILED_INIT;
    char url[64];
    struct sink s = {0};
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/big", port);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
    CURLcode rc = opt == CURLOPT_MAXFILESIZE ? curl_easy_setopt(e, opt, as_long)
                                             : curl_easy_setopt(e, opt, as_off);
    if (rc == CURLE_OK)
        rc = perform(e);
    curl_easy_cleanup(e);
    return rc;
}

/* A CA blob that holds no certificate, over https to the plain server:
 * libcurl fails importing it before any handshake. */
static void bad_ca_blob(int port)
{
    CURL *e = curl_easy_init();
    if (e == NULL)
        return;
    char url[64], err[CURL_ERROR_SIZE] = "";
    static char junk[] = "not a certificate";
    struct curl_blob blob = {junk, sizeof(junk) - 1, CURL_BLOB_NOCOPY};
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/", port);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, err);
    CHECK(curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob) == CURLE_OK);
    CURLcode rc = perform(e);
    CHECKF(rc == CURLE_SSL_CACERT_BADFILE, "CA blob: %d %s, want %d", (int)rc, err,
           (int)CURLE_SSL_CACERT_BADFILE);
    curl_easy_cleanup(e);
}

static int timer_calls;
static void *timer_arg;

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi, (void)timeout_ms;
    timer_calls++;
    timer_arg = userp;
    return 0;
}

static void multi_options(int port)
{
    CURLM *m = curl_multi_init();
    CURL *e = curl_easy_init();
    CHECK(m != NULL && e != NULL);
    if (m == NULL || e == NULL)
        return;
    int mine = 0;
    CHECK(curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 3L) == CURLM_OK);
    CHECK(curl_multi_setopt(m, CURLMOPT_CONTENT_LENGTH_PENALTY_SIZE, (curl_off_t)1 << 33) ==
          CURLM_OK);
    CHECK(curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer) == CURLM_OK);
    CHECK(curl_multi_setopt(m, CURLMOPT_TIMERDATA, &mine) == CURLM_OK);
    CHECK(curl_multi_setopt(m, (CURLMoption)(CURLOPTTYPE_OFF_T + 999), (curl_off_t)0) ==
          CURLM_UNKNOWN_OPTION);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    curl_easy_setopt(e, CURLOPT_URL, url);
    CHECK(curl_multi_add_handle(m, e) == CURLM_OK);
    CHECKF(timer_calls > 0 && timer_arg == &mine, "timer called %d times, data %p want %p",
           timer_calls, timer_arg, (void *)&mine);
    CHECK(curl_multi_remove_handle(m, e) == CURLM_OK);
    curl_easy_cleanup(e);
    CHECK(curl_multi_cleanup(m) == CURLM_OK);
    CHECK(strcmp(curl_multi_strerror(CURLM_OK), "No error") == 0);
}

int main(void)
{
    int port = 0;
    pid_t pid = tl_server_fork(serve, NULL, &port);
    CHECK(pid > 0);
    if (pid <= 0)
        return tl_done();
    CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    CHECKF(curl_dl_loaded() && curl_dl_error()[0] == '\0', "loaded: %s", curl_dl_error());

    post_and_read_back(port);

    const long above_32_bits = (1L << 32) + 5;
    CURLcode rc = get_big(port, CURLOPT_MAXFILESIZE, above_32_bits, 0);
    CHECKF(rc == CURLE_OK, "long limit 2^32+5: %s", curl_easy_strerror(rc));
    rc = get_big(port, CURLOPT_MAXFILESIZE_LARGE, 0, (curl_off_t)above_32_bits);
    CHECKF(rc == CURLE_OK, "off_t limit 2^32+5: %s", curl_easy_strerror(rc));
    rc = get_big(port, CURLOPT_MAXFILESIZE_LARGE, 0, 99);
    CHECKF(rc == CURLE_FILESIZE_EXCEEDED, "off_t limit 99: %s", curl_easy_strerror(rc));
    rc = get_big(port, CURLOPT_MAXFILESIZE, 99, 0);
    CHECKF(rc == CURLE_FILESIZE_EXCEEDED, "long limit 99: %s", curl_easy_strerror(rc));

    bad_ca_blob(port);
    multi_options(port);
    CHECK(curl_getdate("Sun, 06 Nov 1994 08:49:37 GMT", NULL) == 784111777);
    CHECK(strcmp(curl_easy_strerror(CURLE_OK), "No error") == 0);

    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return tl_done();
}
