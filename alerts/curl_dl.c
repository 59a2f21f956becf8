/*
 * The libcurl functions driftd calls, forwarding to libcurl dlopen'ed on
 * first use (why: curl_dl.h). Each is defined with the prototype curl.h
 * declares, so a mismatch does not compile.
 *
 * The shim's definitions are hidden: never in the binary's dynamic symbol
 * table, so libcurl's own calls to curl_easy_* and the like cannot bind to
 * them, and a program that also links libcurl keeps both apart (its
 * dlopen then finds the library already mapped).
 */
/* curl.h's type-checking macros would rename the definitions below; the
 * callers, which include curl.h without this, keep them. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "alerts/curl_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

/* Every function forwarded: one pointer each, typed from curl.h. */
#define CURL_DL_FUNCTIONS(X)                                                                       \
    X(curl_global_init)                                                                            \
    X(curl_easy_init)                                                                              \
    X(curl_easy_cleanup)                                                                           \
    X(curl_easy_setopt)                                                                            \
    X(curl_easy_getinfo)                                                                           \
    X(curl_easy_strerror)                                                                          \
    X(curl_getdate)                                                                                \
    X(curl_multi_init)                                                                             \
    X(curl_multi_cleanup)                                                                          \
    X(curl_multi_add_handle)                                                                       \
    X(curl_multi_remove_handle)                                                                    \
    X(curl_multi_setopt)                                                                           \
    X(curl_multi_assign)                                                                           \
    X(curl_multi_socket_action)                                                                    \
    X(curl_multi_info_read)                                                                        \
    X(curl_multi_strerror)                                                                         \
    X(curl_slist_append)                                                                           \
    X(curl_slist_free_all)

#define CURL_DL_POINTER(name) __typeof__(name) *name;
static struct {
    CURL_DL_FUNCTIONS(CURL_DL_POINTER)
} fn;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static bool loaded;
static char load_error[512];
static const char *soname = CURL_DL_SONAME;

void curl_dl_test_soname(const char *name)
{
    soname = name;
}

/* dlsym every function, or say which is missing. */
static bool resolve(void *lib)
{
    void *p;
#define CURL_DL_RESOLVE(name)                                                                      \
    if ((p = dlsym(lib, #name)) == NULL) {                                                         \
        const char *why = dlerror();                                                               \
        snprintf(load_error, sizeof(load_error), "%s has no %s: %s", soname, #name,                \
                 why ? why : "NULL symbol");                                                       \
        return false;                                                                              \
    }                                                                                              \
    fn.name = (__typeof__(fn.name))p;
    CURL_DL_FUNCTIONS(CURL_DL_RESOLVE)
#undef CURL_DL_RESOLVE
    return true;
}

/* RTLD_NOW: a library whose own dependencies are broken fails here, with
 * dlerror naming them, not at the first call. RTLD_LOCAL: its symbols
 * stay out of the global scope. Never closed: curl and its TLS library
 * keep process-wide state once initialised. */
static void load(void)
{
    void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *why = dlerror();
        snprintf(load_error, sizeof(load_error), "cannot load %s: %s", soname,
                 why ? why : "dlopen failed");
        return;
    }
    if (!resolve(lib)) {
        dlclose(lib);
        return;
    }
    loaded = true;
}

int curl_dl_load(void)
{
    pthread_once(&load_once, load);
    return loaded ? 0 : -1;
}

bool curl_dl_loaded(void)
{
    return curl_dl_load() == 0;
}

const char *curl_dl_error(void)
{
    return load_error;
}

#pragma GCC visibility push(hidden)

CURLcode curl_global_init(long flags)
{
    if (curl_dl_load() != 0)
        return CURLE_FAILED_INIT;
    return fn.curl_global_init(flags);
}

CURL *curl_easy_init(void)
{
    if (curl_dl_load() != 0)
        return NULL;
    return fn.curl_easy_init();
}

void curl_easy_cleanup(CURL *curl)
{
    if (curl_dl_load() == 0)
        fn.curl_easy_cleanup(curl);
}

/*
 * The one argument after the option goes on with the type libcurl reads it
 * as, which the option's number gives: libcurl's Curl_vsetopt (lib/setopt.c)
 * reads a long below CURLOPTTYPE_OBJECTPOINT, a pointer below
 * CURLOPTTYPE_FUNCTIONPOINT, a function pointer below CURLOPTTYPE_OFF_T, a
 * curl_off_t below CURLOPTTYPE_BLOB and a struct curl_blob * from there.
 * Pointers of the object range (char *, struct curl_slist *, FILE *...)
 * and of the function range (each callback's type) share one
 * representation on every ABI curl runs on; curl itself is called with
 * NULL for either.
 */
typedef void (*curl_dl_callback)(void);

/* rc = setopt(handle, option, the next argument of ap as its range reads
 * it): one dispatch for curl_easy_setopt and curl_multi_setopt. */
#define SETOPT_FORWARD(rc, setopt, handle, option, ap)                                             \
    do {                                                                                           \
        if ((option) < CURLOPTTYPE_OBJECTPOINT)                                                    \
            (rc) = (setopt)((handle), (option), va_arg((ap), long));                               \
        else if ((option) < CURLOPTTYPE_FUNCTIONPOINT)                                             \
            (rc) = (setopt)((handle), (option), va_arg((ap), void *));                             \
        else if ((option) < CURLOPTTYPE_OFF_T)                                                     \
            (rc) = (setopt)((handle), (option), va_arg((ap), curl_dl_callback));                   \
        else if ((option) < CURLOPTTYPE_BLOB)                                                      \
            (rc) = (setopt)((handle), (option), va_arg((ap), curl_off_t));                         \
        else                                                                                       \
            (rc) = (setopt)((handle), (option), va_arg((ap), struct curl_blob *));                 \
    } while (0)

CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
    if (curl_dl_load() != 0)
        return CURLE_FAILED_INIT;
    va_list ap;
    CURLcode rc;
    va_start(ap, option);
    SETOPT_FORWARD(rc, fn.curl_easy_setopt, curl, option, ap);
    va_end(ap);
    return rc;
}

/* CURLMOPT_* are numbered in the same ranges (curl/multi.h). libcurl's
 * curl_multi_setopt (lib/multi.c) reads the off_t ones of 7.x not at all;
 * they go on as curl_off_t, as declared. */
CURLMcode curl_multi_setopt(CURLM *multi, CURLMoption option, ...)
{
    if (curl_dl_load() != 0)
        return CURLM_BAD_HANDLE;
    va_list ap;
    CURLMcode rc;
    va_start(ap, option);
    SETOPT_FORWARD(rc, fn.curl_multi_setopt, multi, option, ap);
    va_end(ap);
    return rc;
}

/* The argument is a pointer to where the answer goes, typed by the
 * CURLINFO_TYPEMASK bits of the info, read as libcurl's Curl_getinfo
 * (lib/getinfo.c) reads it. CURLINFO_PTR is CURLINFO_SLIST's value; a type
 * libcurl does not know is answered as libcurl answers it, without reading
 * the argument. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
    if (curl_dl_load() != 0)
        return CURLE_FAILED_INIT;
    va_list ap;
    CURLcode rc;
    va_start(ap, info);
    switch (info & CURLINFO_TYPEMASK) {
    case CURLINFO_STRING:
        rc = fn.curl_easy_getinfo(curl, info, va_arg(ap, const char **));
        break;
    case CURLINFO_LONG:
        rc = fn.curl_easy_getinfo(curl, info, va_arg(ap, long *));
        break;
    case CURLINFO_DOUBLE:
        rc = fn.curl_easy_getinfo(curl, info, va_arg(ap, double *));
        break;
    case CURLINFO_OFF_T:
        rc = fn.curl_easy_getinfo(curl, info, va_arg(ap, curl_off_t *));
        break;
    case CURLINFO_SLIST:
        rc = fn.curl_easy_getinfo(curl, info, va_arg(ap, struct curl_slist **));
        break;
    case CURLINFO_SOCKET:
        rc = fn.curl_easy_getinfo(curl, info, va_arg(ap, curl_socket_t *));
        break;
    default:
        rc = CURLE_UNKNOWN_OPTION;
        break;
    }
    va_end(ap);
    return rc;
}

const char *curl_easy_strerror(CURLcode code)
{
    if (curl_dl_load() != 0)
        return load_error;
    return fn.curl_easy_strerror(code);
}

time_t curl_getdate(const char *p, const time_t *unused)
{
    if (curl_dl_load() != 0)
        return -1;
    return fn.curl_getdate(p, unused);
}

CURLM *curl_multi_init(void)
{
    if (curl_dl_load() != 0)
        return NULL;
    return fn.curl_multi_init();
}

CURLMcode curl_multi_cleanup(CURLM *multi)
{
    if (curl_dl_load() != 0)
        return CURLM_BAD_HANDLE;
    return fn.curl_multi_cleanup(multi);
}

CURLMcode curl_multi_add_handle(CURLM *multi, CURL *curl)
{
    if (curl_dl_load() != 0)
        return CURLM_BAD_HANDLE;
    return fn.curl_multi_add_handle(multi, curl);
}

CURLMcode curl_multi_remove_handle(CURLM *multi, CURL *curl)
{
    if (curl_dl_load() != 0)
        return CURLM_BAD_HANDLE;
    return fn.curl_multi_remove_handle(multi, curl);
}

CURLMcode curl_multi_assign(CURLM *multi, curl_socket_t s, void *sockp)
{
    if (curl_dl_load() != 0)
        return CURLM_BAD_HANDLE;
    return fn.curl_multi_assign(multi, s, sockp);
}

CURLMcode curl_multi_socket_action(CURLM *multi, curl_socket_t s, int ev_bitmask,
                                   int *running_handles)
{
    if (curl_dl_load() != 0)
        return CURLM_BAD_HANDLE;
    return fn.curl_multi_socket_action(multi, s, ev_bitmask, running_handles);
}

CURLMsg *curl_multi_info_read(CURLM *multi, int *msgs_in_queue)
{
    if (curl_dl_load() != 0) {
        if (msgs_in_queue != NULL)
            *msgs_in_queue = 0;
        return NULL;
    }
    return fn.curl_multi_info_read(multi, msgs_in_queue);
}

const char *curl_multi_strerror(CURLMcode code)
{
    if (curl_dl_load() != 0)
        return load_error;
    return fn.curl_multi_strerror(code);
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *s)
{
    if (curl_dl_load() != 0)
        return NULL;
    return fn.curl_slist_append(list, s);
}

void curl_slist_free_all(struct curl_slist *list)
{
    if (curl_dl_load() == 0)
        fn.curl_slist_free_all(list);
}

#pragma GCC visibility pop
