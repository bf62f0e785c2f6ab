#ifndef HELLO_METRICS_H_
#define HELLO_METRICS_H_

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "handler.h"

/* Request metrics shared by all workers: one slot per worker in shared memory, each written by
 * its worker alone (no locks), summed when rendered in the Prometheus text format. */

typedef enum {
    HELLO_STATUS_200 = 0,
    HELLO_STATUS_400,
    HELLO_STATUS_404,
    HELLO_STATUS_405,
    HELLO_STATUS_500,
    HELLO_STATUS_503,
    HELLO_STATUS_OTHER,
    HELLO_STATUS_COUNT
} hello_status_class;

/* Upper bounds of the duration histogram, in microseconds; +Inf is implicit. */
#define HELLO_BUCKETS_US 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000
#define HELLO_BUCKET_COUNT 12

typedef struct {
    _Atomic uint64_t requests[HELLO_ROUTE_COUNT][HELLO_STATUS_COUNT];
    _Atomic uint64_t buckets[HELLO_ROUTE_COUNT][HELLO_BUCKET_COUNT + 1]; /* last one is +Inf */
    _Atomic uint64_t duration_us_sum[HELLO_ROUTE_COUNT];
    _Atomic int64_t in_flight;
} hello_metrics_slot;

typedef struct {
    double start_time;                /* process start, seconds since the epoch */
    _Atomic int draining;             /* set by the master once shutdown has begun */
    _Atomic uint64_t worker_restarts; /* written by the master */
    int workers;                      /* configured worker count */
    hello_metrics_slot slots[HELLO_MAX_WORKERS];
} hello_metrics;

typedef struct {
    const char *version;
    const char *commit;
    const char *arch; /* the image platform's name for the CPU: "amd64", "arm64" */
} hello_build_info;

/* Allocates zeroed metrics in anonymous shared memory, inherited by forked workers.
 * Returns NULL and sets errno on failure. */
hello_metrics *hello_metrics_create(int workers, double start_time);
void hello_metrics_destroy(hello_metrics *m);

/* Single-writer updates of one worker's slot. */
void hello_metrics_begin(hello_metrics_slot *slot);
void hello_metrics_end(hello_metrics_slot *slot, hello_route route, int status, uint64_t duration_us);

hello_status_class hello_status_class_of(int status);

/* Renders all slots, summed, in the Prometheus text exposition format (version 0.0.4).
 * Returns the length written, or -1 when out is too small. */
long hello_metrics_render(const hello_metrics *m, const hello_build_info *build, char *out, size_t out_size);

#endif /* HELLO_METRICS_H_ */
