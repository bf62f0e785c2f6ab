#ifndef HELLO_APP_H_
#define HELLO_APP_H_

#include <stddef.h>

#include "config.h"
#include "log.h"
#include "metrics.h"

/* Process-wide state, one instance made in main() and passed explicitly. */

typedef struct {
    hello_config cfg;
    hello_logger log;
    hello_build_info build;
    hello_metrics *metrics;                   /* shared memory, inherited by workers */
    char run_dir[HELLO_RUNTIME_DIR_MAX + 16]; /* private directory under cfg.runtime_dir */
    int listen_fds[HELLO_MAX_WORKERS];        /* one Unix socket per worker, owned by the master */
    char *title;                              /* argv[0], overwritten to name worker processes */
    size_t title_size;
} hello_app;

#endif /* HELLO_APP_H_ */
