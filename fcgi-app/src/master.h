#ifndef HELLO_MASTER_H_
#define HELLO_MASTER_H_

#include "app.h"

/* The master process (PID 1 in a container), the supervisor: opens the runtime (runtime.h), forks
 * the workers and nginx, restarts workers that die (with backoff), reaps every child, and on
 * SIGTERM/SIGINT/SIGQUIT drains: /readyz turns 503, nginx shuts down gracefully (SIGQUIT), then the
 * workers stop; last it closes the runtime. tpl is the nginx template text.
 * Returns the process exit status: 0 after a clean drain, 1 when nginx died on its own or the
 * grace period ran out, 2 when start-up failed. */
int hello_master_run(hello_app *app, const char *tpl);

#endif /* HELLO_MASTER_H_ */
