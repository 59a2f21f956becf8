/*
 * The table of source kinds: the configuration's input type -> its
 * struct source_ops. A new kind of input is one more row here and one
 * in_NAME.c; the daemon does not change.
 */
#include "agent/source_table.h"

#include "agent/in_http.h"
#include "agent/in_nats.h"
#include "agent/in_stdin.h"
#include "agent/in_tail.h"

#include <stddef.h>

/* The kinds, by the configuration's input type. */
static const struct source_ops *ops_of(enum input_type t)
{
    switch (t) {
    case INPUT_HTTP:
        return &in_http_ops;
    case INPUT_TAIL:
        return &in_tail_ops;
    case INPUT_STDIN:
        return &in_stdin_ops;
    case INPUT_NATS:
        return &in_nats_ops;
    }
    return NULL;
}

struct source *source_new(struct daemon *core, struct event_base *base,
                          const struct input_conf *conf)
{
    const struct source_ops *ops = ops_of(conf->type);
    return ops != NULL ? source_make(ops, core, base, conf) : NULL;
}
