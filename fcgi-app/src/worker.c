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
#include <time.h>
#include <unistd.h>

#include "handler.h"
#include "reqid.h"

#define MAX_EVENTS 64
#define OUT_BUF_SIZE (64 * 1024)
#define STDIN_DRAIN_LIMIT (64 * 1024)

typedef struct conn {
    FCGX_Request req;
    struct conn *prev, *next;
} conn;

typedef struct {
    hello_app *app;
    int index;
    int epoll_fd;
    int signal_fd;
    int listen_fd;
    int accept_paused;      /* out of file descriptors: listen socket taken out of epoll */
    conn *conns;            /* open connections, for cleanup */
    char *metrics_buf;
    char *out_buf;
    hello_reqid_gen ids;    /* fresh request ids, seeded in this process */
} worker;

/* epoll tags for the two non-connection descriptors. */
static char listen_tag, signal_tag;

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
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
        hello_log(&app->log, HELLO_LOG_WARN, "WORKER_SCHED_POLICY=batch refused, keeping the inherited policy",
                  "error", strerror(errno));
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
    hello_request rq;
    hello_response res;
    uint64_t start;
    long n;

    if (FCGX_Accept_r(&c->req) < 0) return -1;
    start = now_us();
    hello_metrics_begin(slot);
    rq.method = FCGX_GetParam("REQUEST_METHOD", c->req.envp);
    rq.path = FCGX_GetParam("DOCUMENT_URI", c->req.envp);
    rq.query = FCGX_GetParam("QUERY_STRING", c->req.envp);
    const char *listener = FCGX_GetParam("HELLO_LISTENER", c->req.envp);
    rq.internal = listener != NULL && strcmp(listener, "internal") == 0;
    rq.draining = atomic_load_explicit(&w->app->metrics->draining, memory_order_relaxed);
    hello_handle(&rq, &res);
    res.request_id = request_id(w, FCGX_GetParam("REQUEST_ID", c->req.envp), fresh_id);

    if (res.wants_metrics) {
        long m = hello_metrics_render(w->app->metrics, &w->app->build, w->metrics_buf, OUT_BUF_SIZE / 2);

        if (m >= 0) {
            body = w->metrics_buf;
            body_len = (size_t)m;
        } else {
            res.wants_metrics = 0;
            res.status = 500;
            res.body_len = (size_t)snprintf(res.body, sizeof res.body, "metrics exceed the buffer\n");
        }
    }
    n = hello_response_format(&res, body, body_len, w->out_buf, OUT_BUF_SIZE);
    if (n < 0) { /* cannot happen with the buffer sizes above; answer rather than crash */
        static const char fallback[] = "Status: 500 Internal Server Error\r\nContent-Type: text/plain; "
                                       "charset=utf-8\r\nContent-Length: 15\r\n\r\nresponse error\n";
        FCGX_PutStr(fallback, (int)sizeof fallback - 1, c->req.out);
    } else {
        FCGX_PutStr(w->out_buf, (int)n, c->req.out);
    }

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

/* ---------------------------------------------------------------- the loop */

static int worker_init(worker *w, hello_app *app, int index)
{
    sigset_t set;

    memset(w, 0, sizeof *w);
    w->app = app;
    w->index = index;
    w->listen_fd = app->listen_fds[index];
    w->epoll_fd = w->signal_fd = -1;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) goto fail;
    w->signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
    w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    w->metrics_buf = malloc(OUT_BUF_SIZE / 2);
    w->out_buf = malloc(OUT_BUF_SIZE);
    if (w->signal_fd < 0 || w->epoll_fd < 0 || w->metrics_buf == NULL || w->out_buf == NULL) goto fail;

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
        int n = epoll_wait(w.epoll_fd, events, MAX_EVENTS, -1);

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
            } else if (serve_one(&w, tag) < 0) {
                conn_close(&w, tag);
            }
        }
    }
    worker_cleanup(&w);
    return status;
}
