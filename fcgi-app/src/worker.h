#ifndef HELLO_WORKER_H_
#define HELLO_WORKER_H_

#include <signal.h>

#include "app.h"

/* A FastCGI worker process: serves every connection nginx opens on its socket, one request at a
 * time per connection, with keep-alive, from a single epoll loop (libfcgi's re-entrant API does
 * the protocol). Runs in a forked child until SIGTERM. Returns the process exit status. */
int hello_worker_run(hello_app *app, int index);

/* Fills set with the signals that stop a worker and make the master drain: SIGTERM, SIGINT and
 * SIGQUIT. Both keep them blocked and read them from a signalfd; a forked worker starts with
 * them blocked already. */
void hello_worker_stop_signals(sigset_t *set);

#endif /* HELLO_WORKER_H_ */
