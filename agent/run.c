/*
 * `driftd run` put together: the event loop, the daemon (the core), and
 * the HTTP API started above it, which reads the daemon through daemon.h.
 * The daemon knows nothing of the API but a hook to call after a reload.
 */
#include "agent/api.h"
#include "agent/daemon.h"
#include "lib/log.h"

#include <event2/event.h>

/* A reload gives the API its new limits. */
static void api_reconfigure(void *arg)
{
    api_configure(arg);
}

int daemon_run(const char *path)
{
    log_init();
    /* The changelist folds the disable/enable pairs evhttp makes around
     * each request into one epoll_ctl per loop turn: 4 -> 2 per request
     * (strace -c under bench/ingest.sh's single-record case). Safe because
     * no descriptor given to libevent is dup()ed, the flag's one caveat. */
    struct event_config *ecfg = event_config_new();
    if (ecfg != NULL)
        event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    struct event_base *base = ecfg != NULL ? event_base_new_with_config(ecfg) : NULL;
    if (ecfg != NULL)
        event_config_free(ecfg);
    if (base == NULL) {
        log_err("cannot create the event loop");
        return 2;
    }
    int rc = 2;
    struct api *api = NULL;
    struct daemon *d = daemon_new(base, path);
    /* the port is bound after the state_dir lock: a second daemon on the
     * same state_dir stops before it */
    if (d != NULL && (api = api_start(d, base)) != NULL) {
        daemon_on_reload(d, api_reconfigure, api);
        if (daemon_start(d, api_address(api)) == 0) {
            rc = 0;
            if (event_base_dispatch(base) != 0) {
                log_err("event loop failed");
                rc = 2;
            }
        }
    }
    if (rc == 0)
        log_notice("stopped");
    api_stop(api);
    daemon_free(d);
    event_base_free(base);
    return rc;
}
