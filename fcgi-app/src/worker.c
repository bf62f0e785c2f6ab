#include "worker.h"

#include <errno.h>
#include <fcgiapp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "fcgiscan.h"
#include "handler.h"
#include "reqid.h"

#define MAX_EVENTS 64
#define OUT_BUF_SIZE (64 * 1024)
#define STDIN_DRAIN_LIMIT (64 * 1024)
/* An idle connection between requests is closed after this long: longer than nginx's upstream
 * keepalive_timeout (60 s in nginx.conf.template), so nginx always closes its cached connections
 * first and never sends a request on one this side is closing. */
#define IDLE_TIMEOUT_MS 65000

typedef struct conn {
    FCGX_Request req;
    long long deadline_ms; /* closed when still open at this time */
    struct conn *prev, *next;
} conn;

typedef struct {
    hello_app *app;
    int index;
    int epoll_fd;
    int signal_fd;
    int listen_fd;
    int accept_paused;       /* out of file descriptors: listen socket taken out of epoll */
    conn *conns;             /* open connections, for cleanup and deadlines */
    long long next_sweep_ms; /* the earliest deadline of any connection (may be earlier than it) */
    char *metrics_buf;
    char *out_buf;
    unsigned char *peek_buf; /* HELLO_FCGI_REQUEST_MAX bytes: what waits on a connection */
    hello_reqid_gen ids;     /* fresh request ids, seeded in this process */
} worker;

/* epoll tags for the two non-connection descriptors. */
static char listen_tag, signal_tag;

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static long long now_ms(void)
{
    return (long long)(now_us() / 1000u);
}

static void set_title(hello_app *app, int index)
{
    char name[16];

    snprintf(name, sizeof name, "hello-worker");
    prctl(PR_SET_NAME, name, 0, 0, 0);
    if (app->title != NULL && app->title_size > 0) {
        memset(app->title, 0, app->title_size);
        snprintf(app->title, app->title_size, "hello-worker %d", index);
    }
}

/* WORKER_SCHED_POLICY=batch. Every request reaches a worker as a write from nginx. As an
 * ordinary task the worker preempts nginx at each such wake-up, answers one request and sleeps
 * again: two context switches per request when both share a core. SCHED_BATCH (entered from
 * SCHED_OTHER without privilege) removes wake-up preemption, so nginx finishes its batch of
 * events and the worker then answers every waiting request in one pass. The price: a worker
 * woken on a core busy with some other task waits for the scheduler tick instead of preempting
 * it, so it suits cores the stack has to itself (a Fargate task), not nodes shared with other
 * busy workloads. */
static void prefer_batches(hello_app *app)
{
    struct sched_param param = {.sched_priority = 0};

    if (sched_setscheduler(0, SCHED_BATCH, &param) < 0)
        hello_log(&app->log, HELLO_LOG_WARN, "WORKER_SCHED_POLICY=batch refused, keeping the inherited policy", "error",
                  strerror(errno));
}

/* ---------------------------------------------------------------- connections */

static void conn_close(worker *w, conn *c)
{
    if (c->req.ipcFd >= 0) FCGX_Free(&c->req, 1);
    if (c->prev) c->prev->next = c->next;
    else w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    free(c);
    if (w->accept_paused) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &listen_tag};

        if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->listen_fd, &ev) == 0) w->accept_paused = 0;
    }
}

static void set_deadline(worker *w, conn *c, long long deadline_ms)
{
    c->deadline_ms = deadline_ms;
    if (deadline_ms < w->next_sweep_ms) w->next_sweep_ms = deadline_ms;
}

/* A peer that stops reading must not hold the worker in libfcgi's blocking write (or read, should
 * a complete request ever leave libfcgi wanting more): both give up after the deadline. */
static void bound_blocking_io(int fd, int deadline_ms)
{
    struct timeval tv = {.tv_sec = deadline_ms / 1000, .tv_usec = (deadline_ms % 1000) * 1000};

    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

static void accept_all(worker *w)
{
    for (;;) {
        int fd = accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        conn *c;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
                hello_log(&w->app->log, HELLO_LOG_WARN, "accept paused: out of resources", "error", strerror(errno));
                if (epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, w->listen_fd, NULL) == 0) w->accept_paused = 1;
            }
            return; /* EAGAIN: nothing more to accept */
        }
        c = calloc(1, sizeof *c);
        if (c == NULL) {
            close(fd);
            continue;
        }
        FCGX_InitRequest(&c->req, -1, 0);
        c->req.ipcFd = fd;
        /* The connection is ours until the web server's BEGIN_REQUEST says otherwise; without
         * this, FCGX_Accept_r's opening FCGX_Finish_r would close it. */
        c->req.keepConnection = 1;
        bound_blocking_io(fd, w->app->cfg.fastcgi_deadline_ms);
        /* A connection that sends nothing at all is closed like one that stops half-way. */
        set_deadline(w, c, now_ms() + w->app->cfg.fastcgi_deadline_ms);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            close(fd);
            free(c);
            continue;
        }
        c->next = w->conns;
        if (w->conns) w->conns->prev = c;
        w->conns = c;
    }
}

/* ---------------------------------------------------------------- one request */

static void log_request(worker *w, const hello_request *rq, const hello_response *res, uint64_t duration_us)
{
    hello_log_fields f;

    if (w->app->log.level > HELLO_LOG_DEBUG) return;
    hello_log_fields_init(&f);
    hello_log_str(&f, "request_id", res->request_id);
    hello_log_str(&f, "method", rq->method);
    hello_log_str(&f, "path", rq->path);
    hello_log_str(&f, "route", hello_route_name(res->route));
    hello_log_int(&f, "status", res->status);
    hello_log_int(&f, "duration_us", (long long)duration_us);
    hello_log_emit(&w->app->log, HELLO_LOG_DEBUG, "request", &f);
}

/* The request's id: the one nginx passed on from the client when it is sane, else a fresh one
 * written to fresh. */
static const char *request_id(worker *w, const char *client_id, char fresh[HELLO_REQID_FRESH_LEN + 1])
{
    if (hello_reqid_is_sane(client_id)) return client_id;
    hello_reqid_next(&w->ids, fresh);
    return fresh;
}

/* Reads and answers the next request on c. Returns 0 while the connection stays open,
 * -1 once libfcgi has closed it (end of stream, protocol error, or no keep-alive). */
static int serve_one(worker *w, conn *c)
{
    hello_metrics_slot *slot = &w->app->metrics->slots[w->index];
    const char *body = NULL;
    size_t body_len = 0;
    char fresh_id[HELLO_REQID_FRESH_LEN + 1];
    char path_buf[4096];
    hello_request rq;
    hello_response res;
    uint64_t start;
    long n;

    if (FCGX_Accept_r(&c->req) < 0) return -1;
    start = now_us();
    hello_metrics_begin(slot);
    rq.method = FCGX_GetParam("REQUEST_METHOD", c->req.envp);
    const char *document_uri = FCGX_GetParam("DOCUMENT_URI", c->req.envp);
    rq.path = document_uri != NULL
                  ? document_uri /* nginx */
                  : hello_request_path(NULL, FCGX_GetParam("SCRIPT_NAME", c->req.envp),
                                       FCGX_GetParam("PATH_INFO", c->req.envp), path_buf, sizeof path_buf);
    rq.query = FCGX_GetParam("QUERY_STRING", c->req.envp);
    const char *listener = FCGX_GetParam("HELLO_LISTENER", c->req.envp);
    rq.internal = listener != NULL && strcmp(listener, "internal") == 0;
    rq.draining = atomic_load_explicit(&w->app->metrics->draining, memory_order_relaxed);
    hello_handle(&rq, &res);
    /* nginx passes the client's id as REQUEST_ID (when its map found it sane) and no headers;
     * other servers pass every header as HTTP_* (RFC 3875, 4.1.18). */
    res.request_id = request_id(w,
                                document_uri != NULL ? FCGX_GetParam("REQUEST_ID", c->req.envp)
                                                     : FCGX_GetParam("HTTP_X_REQUEST_ID", c->req.envp),
                                fresh_id);

    if (res.wants_metrics) {
        long m = hello_metrics_render(w->app->metrics, &w->app->build, w->metrics_buf, OUT_BUF_SIZE / 2);

        if (m >= 0) {
            body = w->metrics_buf;
            body_len = (size_t)m;
        } else {
            hello_response_fail(&res, HELLO_FAIL_METRICS_TOO_LARGE);
        }
    }
    n = hello_response_format(&res, body, body_len, w->out_buf, OUT_BUF_SIZE);
    if (n < 0) { /* cannot happen with the buffer sizes above; answer rather than crash */
        hello_response_fail(&res, HELLO_FAIL_RESPONSE_TOO_LARGE);
        n = hello_response_format(&res, NULL, 0, w->out_buf, OUT_BUF_SIZE);
    }
    if (n >= 0) FCGX_PutStr(w->out_buf, (int)n, c->req.out);

    /* Consume FCGI_STDIN to its end so the next request on this connection starts clean. */
    int drained = 0, k;
    while (drained < STDIN_DRAIN_LIMIT && (k = FCGX_GetStr(w->metrics_buf, OUT_BUF_SIZE / 2, c->req.in)) > 0)
        drained += k;
    if (drained >= STDIN_DRAIN_LIMIT) c->req.keepConnection = 0;

    uint64_t duration = now_us() - start;
    log_request(w, &rq, &res, duration);
    FCGX_Finish_r(&c->req);
    hello_metrics_end(slot, res.route, res.status, duration);
    return c->req.ipcFd >= 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- before libfcgi */

/* Writes all of buf; the socket's send timeout bounds the wait. Returns 0, or -1. */
static int write_all(int fd, const unsigned char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Removes the first len bytes (already peeked, so waiting) from the connection. Returns 0, or -1. */
static int consume(worker *w, int fd, size_t len)
{
    return recv(fd, w->peek_buf, len, MSG_DONTWAIT) == (ssize_t)len ? 0 : -1;
}

static void log_refused(worker *w, const char *why)
{
    hello_log_fields f;

    hello_log_fields_init(&f);
    hello_log_int(&f, "worker", w->index);
    hello_log_str(&f, "reason", why);
    hello_log_emit(&w->app->log, HELLO_LOG_WARN, "FastCGI connection closed", &f);
}

/* Serves what waits on c: every complete request, management record and stale abort at its head.
 * libfcgi gets the connection only when a whole, valid request waits, so it never blocks and never
 * sees a record it mishandles (fcgiscan.h). Returns 0 while c stays open, -1 to close it. */
static int on_readable(worker *w, conn *c)
{
    const hello_fcgi_limits limits = {.max_conns = 1024, .max_reqs = 1024};
    hello_fcgi_scan_result r;
    unsigned char answer[128];
    long len;

    /* A few records per wake-up at most: a peer that pipelines without end gets its turn again
     * from epoll (level-triggered) after the other ready connections. */
    for (int round = 0; round < 16; round++) {
        ssize_t n = recv(c->req.ipcFd, w->peek_buf, HELLO_FCGI_REQUEST_MAX, MSG_PEEK | MSG_DONTWAIT);

        if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
        if (n == 0) return -1; /* the peer closed */
        hello_fcgi_scan(w->peek_buf, (size_t)n, &r);
        switch (r.verdict) {
        case HELLO_FCGI_NEED_MORE:
            /* The deadline set when the last request ended (or at accept) keeps running: a request
             * has FASTCGI_DEADLINE_MS from its first byte, however slowly the rest arrives. */
            if (c->deadline_ms > now_ms() + w->app->cfg.fastcgi_deadline_ms)
                set_deadline(w, c, now_ms() + w->app->cfg.fastcgi_deadline_ms);
            return 0;
        case HELLO_FCGI_REQUEST:
            /* libfcgi reads up to 8 KiB at a time, so bytes pipelined after this request may be
             * read with it and lost; the scan then finds the rest of them malformed and closes
             * the connection. nginx sends the next request only after the answer. */
            if (serve_one(w, c) < 0) return -1;
            set_deadline(w, c, now_ms() + IDLE_TIMEOUT_MS);
            if ((size_t)n == r.length) return 0; /* nothing else was waiting: back to epoll */
            continue;
        case HELLO_FCGI_MANAGEMENT:
            len = hello_fcgi_answer_management(w->peek_buf, r.length, &limits, answer, sizeof answer);
            if (len < 0) {
                log_refused(w, "malformed management record");
                return -1;
            }
            if (write_all(c->req.ipcFd, answer, (size_t)len) < 0 || consume(w, c->req.ipcFd, r.length) < 0) return -1;
            continue;
        case HELLO_FCGI_SKIP:
            if (consume(w, c->req.ipcFd, r.length) < 0) return -1;
            continue;
        case HELLO_FCGI_UNKNOWN_ROLE:
            /* Section 5.5: FCGI_UNKNOWN_ROLE rejects a request "when the Web server has specified a
             * role that is unknown to the application"; its other records follow, so close. */
            write_all(c->req.ipcFd, answer, hello_fcgi_unknown_role(r.request_id, answer));
            log_refused(w, r.why);
            return -1;
        case HELLO_FCGI_INVALID:
        default: log_refused(w, r.why); return -1;
        }
    }
    return 0;
}

/* Closes every connection past its deadline and notes when the next one is due. */
static void sweep(worker *w)
{
    long long now = now_ms(), next = now + IDLE_TIMEOUT_MS;

    for (conn *c = w->conns, *after; c != NULL; c = after) {
        after = c->next;
        if (c->deadline_ms <= now) conn_close(w, c);
        else if (c->deadline_ms < next) next = c->deadline_ms;
    }
    w->next_sweep_ms = next;
}

static int epoll_timeout(const worker *w)
{
    long long wait;

    if (w->conns == NULL) return -1;
    wait = w->next_sweep_ms - now_ms();
    return wait <= 0 ? 0 : wait > IDLE_TIMEOUT_MS ? IDLE_TIMEOUT_MS : (int)wait;
}

/* ---------------------------------------------------------------- the loop */

static int worker_init(worker *w, hello_app *app, int index)
{
    sigset_t set;

    memset(w, 0, sizeof *w);
    w->app = app;
    w->index = index;
    w->listen_fd = app->listen_fds[index];
    w->epoll_fd = w->signal_fd = -1;
    hello_worker_stop_signals(&set);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) goto fail;
    w->signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
    w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    w->metrics_buf = malloc(OUT_BUF_SIZE / 2);
    w->out_buf = malloc(OUT_BUF_SIZE);
    w->peek_buf = malloc(HELLO_FCGI_REQUEST_MAX);
    w->next_sweep_ms = now_ms() + IDLE_TIMEOUT_MS;
    if (w->signal_fd < 0 || w->epoll_fd < 0 || w->metrics_buf == NULL || w->out_buf == NULL || w->peek_buf == NULL)
        goto fail;

    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &listen_tag};
    struct epoll_event sev = {.events = EPOLLIN, .data.ptr = &signal_tag};
    if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->listen_fd, &lev) < 0) goto fail;
    if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->signal_fd, &sev) < 0) goto fail;
    /* libfcgi lingers up to 2 s on close waiting for the peer; over a local Unix socket
     * there is nothing to wait for, and the wait would stall every other connection. */
    setenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT", "0", 0);
    if (FCGX_Init() != 0) goto fail;
    if (hello_reqid_seed(&w->ids) < 0)
        hello_log(&app->log, HELLO_LOG_WARN, "getrandom failed: request ids seeded from the clock", "error",
                  strerror(errno));
    return 0;
fail:
    return -1;
}

static void worker_cleanup(worker *w)
{
    while (w->conns != NULL) conn_close(w, w->conns);
    if (w->epoll_fd >= 0) close(w->epoll_fd);
    if (w->signal_fd >= 0) close(w->signal_fd);
    free(w->metrics_buf);
    free(w->out_buf);
    free(w->peek_buf);
}

void hello_worker_stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGQUIT);
}

int hello_worker_run(hello_app *app, int index)
{
    struct epoll_event events[MAX_EVENTS];
    worker w;
    int stop = 0, status = 0;

    set_title(app, index);
    app->log.component = "worker";
    if (app->cfg.worker_batch) prefer_batches(app);
    if (worker_init(&w, app, index) < 0) {
        hello_log(&app->log, HELLO_LOG_ERROR, "worker start-up failed", "error", strerror(errno));
        worker_cleanup(&w);
        return 1;
    }
    hello_log_fields f;
    hello_log_fields_init(&f);
    hello_log_int(&f, "worker", index);
    hello_log_emit(&app->log, HELLO_LOG_DEBUG, "worker ready", &f);

    while (!stop) {
        int n = epoll_wait(w.epoll_fd, events, MAX_EVENTS, epoll_timeout(&w));

        if (n < 0) {
            if (errno == EINTR) continue;
            hello_log(&app->log, HELLO_LOG_ERROR, "epoll_wait failed", "error", strerror(errno));
            status = 1;
            break;
        }
        for (int i = 0; i < n; i++) {
            void *tag = events[i].data.ptr;

            if (tag == &listen_tag) {
                accept_all(&w);
            } else if (tag == &signal_tag) {
                stop = 1; /* finish this batch, then exit */
            } else if (on_readable(&w, tag) < 0) {
                conn_close(&w, tag);
            }
        }
        if (w.conns != NULL && now_ms() >= w.next_sweep_ms) sweep(&w);
    }
    worker_cleanup(&w);
    return status;
}
