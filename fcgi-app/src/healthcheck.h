#ifndef HELLO_HEALTHCHECK_H_
#define HELLO_HEALTHCHECK_H_

#include "config.h"

/* `hello --healthcheck`: GET /healthz from this instance's own listener, so a container health
 * check needs neither a shell nor curl. Returns 0 when the answer is 200, 1 otherwise, with a
 * one-line reason on stderr. */
int hello_healthcheck(const hello_config *cfg);

#endif /* HELLO_HEALTHCHECK_H_ */
