#include "master.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "relay.h"
#include "runtime.h"
#include "worker.h"

#define RESTART_BACKOFF_MIN_MS 100
#define RESTART_BACKOFF_MAX_MS 5000
#define STABLE_AFTER_MS 10000 /* a worker that lived this long restarts without delay */

typedef enum { RUNNING, DELAYING, DRAINING, STOPPING_WORKERS } phase;

typedef struct {
    pid_t pid; /* 0 when not running */
    long long started_ms;
    long long restart_at_ms; /* > 0: restart due at this time */
    int backoff_ms;
} worker_slot;

typedef struct {
    hello_app *app;
    int signal_fd;
    sigset_t stop_signals; /* hello_worker_stop_signals: drain here, stop in a worker */
    hello_relay *relay;    /* nginx's stdout on its way to ours */
    int relay_write_fd;    /* the pipe's write end, until nginx has it */
    pid_t nginx_pid;
    worker_slot workers[HELLO_MAX_WORKERS];
    phase phase;
    long long delay_until_ms;
    long long deadline_ms;
    int exit_status;
} master;

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_child(const hello_app *app, hello_log_level level, const char *msg, const char *what, int index,
                      pid_t pid, int wstatus)
{
    hello_log_fields f;

    hello_log_fields_init(&f);
    hello_log_str(&f, "process", what);
    if (index >= 0) hello_log_int(&f, "worker", index);
    hello_log_int(&f, "child_pid", pid);
    if (WIFEXITED(wstatus)) hello_log_int(&f, "exit_code", WEXITSTATUS(wstatus));
    else if (WIFSIGNALED(wstatus)) hello_log_str(&f, "signal", strsignal(WTERMSIG(wstatus)));
    hello_log_emit(&app->log, level, msg, &f);
}

/* ---------------------------------------------------------------- children */

/* In a new child: own process group (a terminal's Ctrl-C reaches only the master, which then
 * drains in order), die with the master, default signal handling. */
static void child_setup(const sigset_t *blocked)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, blocked, NULL);
}

static void signal_nginx(const master *m, int sig)
{
    if (m->nginx_pid > 0) kill(m->nginx_pid, sig);
}

static int start_worker(master *m, int index)
{
    hello_app *app = m->app;
    pid_t pid = fork();

    if (pid < 0) {
        hello_log(&app->log, HELLO_LOG_ERROR, "fork failed", "error", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        close(m->signal_fd);
        if (m->relay != NULL && m->relay->in_fd >= 0) close(m->relay->in_fd);
        for (int i = 0; i < app->cfg.workers; i++)
            if (i != index && app->listen_fds[i] >= 0) close(app->listen_fds[i]);
        /* Keep the stop signals blocked: the worker reads them from its signalfd. */
        child_setup(&m->stop_signals);
        signal(SIGPIPE, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        _exit(hello_worker_run(app, index));
    }
    m->workers[index].pid = pid;
    m->workers[index].started_ms = now_ms();
    m->workers[index].restart_at_ms = 0;
    return 0;
}

static int start_nginx(master *m, const char *conf_path)
{
    hello_app *app = m->app;
    char prefix[sizeof app->run_dir + 1];
    pid_t pid;

    snprintf(prefix, sizeof prefix, "%s/", app->run_dir);
    pid = fork();
    if (pid < 0) {
        hello_log(&app->log, HELLO_LOG_ERROR, "fork failed", "error", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        char *const argv[] = {"nginx", "-p", prefix, "-c", (char *)conf_path, "-e", "stderr", NULL};
        sigset_t none;

        sigemptyset(&none);
        child_setup(&none);
        if (dup2(m->relay_write_fd, STDOUT_FILENO) < 0) _exit(127);
        /* nginx builds its configuration with large temporary blocks (hash key arrays of a few
         * hundred KiB) and frees them. glibc, Malloc Tunable Parameters, M_MMAP_THRESHOLD: "If
         * this parameter is not set, the default value is set as 128 KiB and the threshold is
         * adjusted dynamically to suit the allocation patterns of the program. If the parameter is
         * set, the dynamic adjustment is disabled"; "This parameter can also be set for the
         * process at startup by setting the environment variable MALLOC_MMAP_THRESHOLD_". Left
         * dynamic, the first freed block raises the threshold, the next ones come from the heap
         * and stay resident below later allocations: 1 MB in the nginx master and again in each
         * worker (make bench-stack's idle PSS). Fixed at the default, they are mapped and
         * returned on free; nginx allocates nothing that large per request. An operator's own
         * setting wins. */
        setenv("MALLOC_MMAP_THRESHOLD_", "131072", 0);
        execv(app->cfg.nginx_bin, argv);
        hello_log(&app->log, HELLO_LOG_ERROR, "cannot start nginx (NGINX_BIN)", "error", strerror(errno));
        _exit(127);
    }
    m->nginx_pid = pid;
    close(m->relay_write_fd);
    m->relay_write_fd = -1;
    return 0;
}

/* The pipe nginx writes its stdout to (see relay.h). Returns 0, or -1 with a log line. */
static int open_relay(master *m)
{
    int fds[2];

    m->relay = malloc(sizeof *m->relay);
    if (m->relay == NULL || pipe2(fds, O_CLOEXEC) < 0 || fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) {
        hello_log(&m->app->log, HELLO_LOG_ERROR, "cannot create nginx's output pipe", "error", strerror(errno));
        return -1;
    }
    m->relay->in_fd = fds[0];
    m->relay->out_fd = STDOUT_FILENO;
    m->relay->len = 0;
    m->relay_write_fd = fds[1];
    return 0;
}

/* After nginx is gone: the rest of its output, waiting at most a second for its last writers. */
static void drain_relay(master *m)
{
    long long until = now_ms() + 1000;

    while (m->relay != NULL && m->relay->in_fd >= 0 && now_ms() < until) {
        struct pollfd pfd = {.fd = m->relay->in_fd, .events = POLLIN};

        if (poll(&pfd, 1, 100) > 0) hello_relay_pump(m->relay);
    }
}

static int worker_index(const master *m, pid_t pid)
{
    for (int i = 0; i < m->app->cfg.workers; i++)
        if (m->workers[i].pid == pid) return i;
    return -1;
}

static int workers_running(const master *m)
{
    int n = 0;

    for (int i = 0; i < m->app->cfg.workers; i++) n += m->workers[i].pid != 0;
    return n;
}

static void signal_workers(const master *m, int sig)
{
    for (int i = 0; i < m->app->cfg.workers; i++)
        if (m->workers[i].pid != 0) kill(m->workers[i].pid, sig);
}

/* ---------------------------------------------------------------- shutdown */

static void stop_workers(master *m)
{
    m->phase = STOPPING_WORKERS;
    for (int i = 0; i < m->app->cfg.workers; i++) m->workers[i].restart_at_ms = 0;
    signal_workers(m, SIGTERM);
}

/* From now on /readyz fails, and everything must be gone within GRACE_SECONDS. */
static void start_grace_period(master *m)
{
    atomic_store(&m->app->metrics->draining, 1);
    m->deadline_ms = now_ms() + m->app->cfg.grace_seconds * 1000LL;
}

static void begin_drain(master *m, const char *why)
{
    hello_app *app = m->app;

    start_grace_period(m);
    hello_log(&app->log, HELLO_LOG_INFO, "shutdown begun: readiness now fails, draining", "reason", why);
    if (app->cfg.shutdown_delay_seconds > 0) {
        m->phase = DELAYING;
        m->delay_until_ms = now_ms() + app->cfg.shutdown_delay_seconds * 1000LL;
        return;
    }
    m->phase = DRAINING;
    signal_nginx(m, SIGQUIT); /* graceful: finish in-flight requests, close idle connections */
}

static void force_stop(master *m)
{
    hello_log(&m->app->log, HELLO_LOG_ERROR, "grace period over: killing what is left", NULL, NULL);
    if (m->nginx_pid > 0) kill(-m->nginx_pid, SIGKILL); /* its whole process group */
    signal_workers(m, SIGKILL);
    m->exit_status = 1;
    m->phase = STOPPING_WORKERS;
}

/* ---------------------------------------------------------------- events */

static void on_child_exit(master *m, pid_t pid, int wstatus)
{
    hello_app *app = m->app;
    int i;

    if (pid == m->nginx_pid) {
        m->nginx_pid = 0;
        /* nginx's workers outlive a killed nginx master and keep the listening sockets:
         * end its whole process group (empty after a clean exit). */
        kill(-pid, SIGKILL);
        if (m->phase == RUNNING || m->phase == DELAYING) {
            log_child(app, HELLO_LOG_ERROR, "nginx exited unexpectedly: stopping", "nginx", -1, pid, wstatus);
            start_grace_period(m);
            m->exit_status = 1;
        } else {
            log_child(app, HELLO_LOG_INFO, "nginx stopped", "nginx", -1, pid, wstatus);
        }
        if (m->phase != STOPPING_WORKERS) stop_workers(m);
        return;
    }
    i = worker_index(m, pid);
    if (i < 0) return; /* an orphan re-parented to PID 1: reaped, nothing else to do */
    m->workers[i].pid = 0;
    hello_runtime_close_socket(app, i);
    if (m->phase != RUNNING) {
        log_child(app, HELLO_LOG_DEBUG, "worker stopped", "worker", i, pid, wstatus);
        return;
    }
    log_child(app, HELLO_LOG_WARN, "worker died", "worker", i, pid, wstatus);
    if (app->cfg.disable_restart) return;
    worker_slot *w = &m->workers[i];
    if (now_ms() - w->started_ms >= STABLE_AFTER_MS) w->backoff_ms = 0;
    else
        w->backoff_ms = w->backoff_ms == 0                           ? RESTART_BACKOFF_MIN_MS
                        : w->backoff_ms * 2 > RESTART_BACKOFF_MAX_MS ? RESTART_BACKOFF_MAX_MS
                                                                     : w->backoff_ms * 2;
    w->restart_at_ms = now_ms() + w->backoff_ms;
}

static void reap(master *m)
{
    int wstatus;
    pid_t pid;

    while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) on_child_exit(m, pid, wstatus);
}

static void on_signal(master *m, int sig)
{
    if (sig == SIGCHLD) {
        reap(m);
    } else if (sig == SIGHUP) {
        signal_nginx(m, SIGHUP); /* reopen logs, reload configuration */
    } else if (m->phase == RUNNING) {
        begin_drain(m, strsignal(sig));
    } else if (m->phase == DELAYING || m->phase == DRAINING) {
        hello_log(&m->app->log, HELLO_LOG_WARN, "second stop signal: fast shutdown", NULL, NULL);
        signal_nginx(m, SIGTERM);
        m->phase = DRAINING;
    }
}

static void on_timers(master *m)
{
    long long now = now_ms();

    if (m->phase == DELAYING && now >= m->delay_until_ms) {
        m->phase = DRAINING;
        signal_nginx(m, SIGQUIT);
    }
    if (m->phase != RUNNING && now >= m->deadline_ms && m->deadline_ms > 0) {
        m->deadline_ms = 0;
        force_stop(m);
    }
    if (m->phase == RUNNING) {
        for (int i = 0; i < m->app->cfg.workers; i++) {
            worker_slot *w = &m->workers[i];

            if (w->pid != 0 || w->restart_at_ms == 0 || now < w->restart_at_ms) continue;
            atomic_store_explicit(&m->app->metrics->slots[i].in_flight, 0, memory_order_relaxed);
            if (hello_runtime_open_socket(m->app, i) == 0 && start_worker(m, i) == 0) {
                atomic_fetch_add(&m->app->metrics->worker_restarts, 1);
                log_child(m->app, HELLO_LOG_INFO, "worker restarted", "worker", i, w->pid, 0);
            } else {
                w->restart_at_ms = now + RESTART_BACKOFF_MAX_MS;
            }
        }
    }
}

static int next_timeout_ms(const master *m)
{
    long long now = now_ms(), next = -1;

    if (m->phase == DELAYING) next = m->delay_until_ms;
    if (m->phase != RUNNING && m->deadline_ms > 0 && (next < 0 || m->deadline_ms < next)) next = m->deadline_ms;
    if (m->phase == RUNNING)
        for (int i = 0; i < m->app->cfg.workers; i++)
            if (m->workers[i].restart_at_ms > 0 && (next < 0 || m->workers[i].restart_at_ms < next))
                next = m->workers[i].restart_at_ms;
    if (next < 0) return -1;
    return next <= now ? 0 : (int)(next - now);
}

static int event_loop(master *m)
{
    while (m->phase != STOPPING_WORKERS || m->nginx_pid != 0 || workers_running(m) > 0) {
        struct pollfd pfd[2] = {{.fd = m->signal_fd, .events = POLLIN}, {.fd = m->relay->in_fd, .events = POLLIN}};
        struct signalfd_siginfo si;

        if (poll(pfd, 2, next_timeout_ms(m)) < 0 && errno != EINTR) return -1;
        if (pfd[1].revents != 0 && m->relay->in_fd >= 0) hello_relay_pump(m->relay);
        while (read(m->signal_fd, &si, sizeof si) == sizeof si) on_signal(m, (int)si.ssi_signo);
        reap(m); /* signals coalesce: never trust one SIGCHLD per child */
        on_timers(m);
    }
    return 0;
}

/* ---------------------------------------------------------------- entry */

int hello_master_run(hello_app *app, const char *tpl)
{
    master m;
    sigset_t set;
    char conf_path[sizeof app->run_dir + 16];
    hello_log_fields f;

    memset(&m, 0, sizeof m);
    m.app = app;
    m.signal_fd = -1;
    m.relay_write_fd = -1;
    m.exit_status = 0;

    hello_worker_stop_signals(&m.stop_signals);
    set = m.stop_signals;
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGHUP);
    signal(SIGPIPE, SIG_IGN);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || (m.signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        hello_log(&app->log, HELLO_LOG_ERROR, "cannot set up signal handling", "error", strerror(errno));
        return 2;
    }
    if (hello_runtime_open(app, tpl, conf_path, sizeof conf_path) < 0) goto fail;

    hello_log_fields_init(&f);
    hello_log_str(&f, "version", app->build.version);
    hello_log_str(&f, "commit", app->build.commit);
    hello_log_int(&f, "port", app->cfg.port);
    hello_log_int(&f, "metrics_port", app->cfg.metrics_port);
    hello_log_int(&f, "workers", app->cfg.workers);
    hello_log_int(&f, "nginx_workers", app->cfg.nginx_workers);
    hello_log_str(&f, "run_dir", app->run_dir);
    hello_log_emit(&app->log, HELLO_LOG_INFO, "starting", &f);

    for (int i = 0; i < app->cfg.workers; i++)
        if (start_worker(&m, i) < 0) goto fail_children;
    if (open_relay(&m) < 0 || start_nginx(&m, conf_path) < 0) goto fail_children;

    if (event_loop(&m) < 0) {
        hello_log(&app->log, HELLO_LOG_ERROR, "event loop failed", "error", strerror(errno));
        m.exit_status = 1;
    }
    drain_relay(&m);
    hello_log_fields_init(&f);
    hello_log_int(&f, "exit_code", m.exit_status);
    hello_log_emit(&app->log, m.exit_status == 0 ? HELLO_LOG_INFO : HELLO_LOG_ERROR, "stopped", &f);
    goto done;

fail_children:
    signal_workers(&m, SIGKILL);
    while (waitpid(-1, NULL, 0) > 0) {}
fail:
    m.exit_status = 2;
done:
    hello_runtime_close(app);
    close(m.signal_fd);
    if (m.relay_write_fd >= 0) close(m.relay_write_fd);
    if (m.relay != NULL && m.relay->in_fd >= 0) close(m.relay->in_fd);
    free(m.relay);
    return m.exit_status;
}
