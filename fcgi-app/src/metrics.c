#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>

static const uint64_t bucket_bounds_us[HELLO_BUCKET_COUNT] = {HELLO_BUCKETS_US};

static const char *const status_labels[HELLO_STATUS_COUNT] = {
    [HELLO_STATUS_200] = "200", [HELLO_STATUS_400] = "400", [HELLO_STATUS_404] = "404",     [HELLO_STATUS_405] = "405",
    [HELLO_STATUS_500] = "500", [HELLO_STATUS_503] = "503", [HELLO_STATUS_OTHER] = "other",
};

hello_metrics *hello_metrics_create(int workers, double start_time)
{
    hello_metrics *m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (m == MAP_FAILED) return NULL;
    m->start_time = start_time;
    m->workers = workers;
    return m;
}

void hello_metrics_destroy(hello_metrics *m)
{
    if (m != NULL) munmap(m, sizeof *m);
}

/* Each counter has exactly one writer, so a relaxed load + store is a safe increment and
 * avoids a locked instruction on the hot path; readers may see a value one update old. */
static void bump(_Atomic uint64_t *counter, uint64_t by)
{
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + by, memory_order_relaxed);
}

void hello_metrics_begin(hello_metrics_slot *slot)
{
    atomic_store_explicit(&slot->in_flight, atomic_load_explicit(&slot->in_flight, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

hello_status_class hello_status_class_of(int status)
{
    switch (status) {
    case 200: return HELLO_STATUS_200;
    case 400: return HELLO_STATUS_400;
    case 404: return HELLO_STATUS_404;
    case 405: return HELLO_STATUS_405;
    case 500: return HELLO_STATUS_500;
    case 503: return HELLO_STATUS_503;
    default: return HELLO_STATUS_OTHER;
    }
}

void hello_metrics_end(hello_metrics_slot *slot, hello_route route, int status, uint64_t duration_us)
{
    size_t b = 0;

    if ((unsigned)route >= HELLO_ROUTE_COUNT) route = HELLO_ROUTE_UNKNOWN;
    while (b < HELLO_BUCKET_COUNT && duration_us > bucket_bounds_us[b]) b++;
    bump(&slot->requests[route][hello_status_class_of(status)], 1);
    bump(&slot->buckets[route][b], 1);
    bump(&slot->duration_us_sum[route], duration_us);
    atomic_store_explicit(&slot->in_flight, atomic_load_explicit(&slot->in_flight, memory_order_relaxed) - 1,
                          memory_order_relaxed);
}

/* ---------------------------------------------------------------- rendering */

typedef struct {
    char *out;
    size_t size;
    size_t len;
    int overflow;
} writer;

static void put(writer *w, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (w->overflow) return;
    va_start(ap, fmt);
    n = vsnprintf(w->out + w->len, w->size - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->size - w->len) w->overflow = 1;
    else w->len += (size_t)n;
}

static uint64_t load(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* Writes a Prometheus label value with \\, \" and \n escaped. */
static void put_label_value(writer *w, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\' || *s == '"') put(w, "\\%c", *s);
        else if (*s == '\n') put(w, "\\n");
        else put(w, "%c", *s);
    }
}

long hello_metrics_render(const hello_metrics *m, const hello_build_info *build, char *out, size_t out_size)
{
    writer w = {out, out_size, 0, out_size == 0};
    int workers = m->workers < HELLO_MAX_WORKERS ? m->workers : HELLO_MAX_WORKERS;
    int64_t in_flight = 0;

    put(&w, "# HELP hello_requests_total Requests answered by the responder, by route and status code.\n"
            "# TYPE hello_requests_total counter\n");
    for (int r = 0; r < HELLO_ROUTE_COUNT; r++) {
        for (int s = 0; s < HELLO_STATUS_COUNT; s++) {
            uint64_t total = 0;

            for (int i = 0; i < workers; i++) total += load(&m->slots[i].requests[r][s]);
            if (total == 0 && !(r == HELLO_ROUTE_HELLO && s == HELLO_STATUS_200)) continue;
            put(&w, "hello_requests_total{route=\"%s\",code=\"%s\"} %llu\n", hello_route_name((hello_route)r),
                status_labels[s], (unsigned long long)total);
        }
    }

    put(&w, "# HELP hello_request_duration_seconds Time the responder spent on a request.\n"
            "# TYPE hello_request_duration_seconds histogram\n");
    for (int r = 0; r < HELLO_ROUTE_COUNT; r++) {
        const char *route = hello_route_name((hello_route)r);
        uint64_t cumulative = 0, sum_us = 0;

        for (int b = 0; b <= HELLO_BUCKET_COUNT; b++) {
            for (int i = 0; i < workers; i++) cumulative += load(&m->slots[i].buckets[r][b]);
            if (b < HELLO_BUCKET_COUNT)
                put(&w, "hello_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", route,
                    (double)bucket_bounds_us[b] / 1e6, (unsigned long long)cumulative);
            else
                put(&w, "hello_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", route,
                    (unsigned long long)cumulative);
        }
        for (int i = 0; i < workers; i++) sum_us += load(&m->slots[i].duration_us_sum[r]);
        put(&w, "hello_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route, (double)sum_us / 1e6);
        put(&w, "hello_request_duration_seconds_count{route=\"%s\"} %llu\n", route, (unsigned long long)cumulative);
    }

    for (int i = 0; i < workers; i++) in_flight += atomic_load_explicit(&m->slots[i].in_flight, memory_order_relaxed);
    put(&w,
        "# HELP hello_requests_in_flight Requests being handled by the responder right now.\n"
        "# TYPE hello_requests_in_flight gauge\n"
        "hello_requests_in_flight %lld\n",
        (long long)in_flight);
    put(&w,
        "# HELP hello_workers Responder worker processes configured.\n"
        "# TYPE hello_workers gauge\n"
        "hello_workers %d\n",
        m->workers);
    put(&w,
        "# HELP hello_worker_restarts_total Worker processes restarted after dying.\n"
        "# TYPE hello_worker_restarts_total counter\n"
        "hello_worker_restarts_total %llu\n",
        (unsigned long long)load(&m->worker_restarts));
    put(&w,
        "# HELP hello_draining 1 once shutdown has begun.\n"
        "# TYPE hello_draining gauge\n"
        "hello_draining %d\n",
        atomic_load_explicit(&m->draining, memory_order_relaxed) ? 1 : 0);
    put(&w,
        "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
        "# TYPE process_start_time_seconds gauge\n"
        "process_start_time_seconds %.3f\n",
        m->start_time);
    put(&w, "# HELP hello_build_info Build information.\n"
            "# TYPE hello_build_info gauge\n"
            "hello_build_info{version=\"");
    put_label_value(&w, build->version);
    put(&w, "\",commit=\"");
    put_label_value(&w, build->commit);
    put(&w, "\",arch=\"");
    put_label_value(&w, build->arch);
    put(&w, "\"} 1\n");
    return w.overflow ? -1 : (long)w.len;
}
