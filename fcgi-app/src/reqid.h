#ifndef HELLO_REQID_H_
#define HELLO_REQID_H_

#include <stdint.h>

/* Request ids: the client's X-Request-ID when it looks like an id, else a fresh one made here.
 * nginx passes a sane client id on; making fresh ones here rather than with nginx's $request_id
 * spares nginx a CSPRNG call and a getpid() per request. */

#define HELLO_REQID_MIN_LEN 8
#define HELLO_REQID_MAX_LEN 128
#define HELLO_REQID_FRESH_LEN 32 /* lower-case hex digits (128 bits), the shape of nginx's $request_id */

/* Two Weyl sequences, each step mixed by splitmix64's finaliser (a bijection on 64 bits). */
typedef struct {
    uint64_t hi, lo;
} hello_reqid_gen;

/* Seeds g from getrandom(). Returns 0, or -1 with errno set, g then being seeded from the clock
 * and the pid instead (distinct per process, but guessable). Call it in each worker process. */
int hello_reqid_seed(hello_reqid_gen *g);

/* Writes the next fresh id (HELLO_REQID_FRESH_LEN hex digits and a NUL) to out. The high half
 * takes every 64-bit value once before it repeats, so one generator never repeats an id within
 * 2^64 ids; generators seeded apart collide with negligible probability. */
void hello_reqid_next(hello_reqid_gen *g, char out[HELLO_REQID_FRESH_LEN + 1]);

/* 1 when id is HELLO_REQID_MIN_LEN to HELLO_REQID_MAX_LEN characters of [A-Za-z0-9._:-] (the
 * rule nginx's map applies to X-Request-ID), else 0. NULL gives 0. */
int hello_reqid_is_sane(const char *id);

#endif /* HELLO_REQID_H_ */
