#include "master.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "relay.h"
#include "template.h"
#include "worker.h"

#define NGINX_CONF_MAX (64 * 1024)
#define RESTART_BACKOFF_MIN_MS 100
#define RESTART_BACKOFF_MAX_MS 5000
#define STABLE_AFTER_MS 10000 /* a worker that lived this long restarts without delay */

typedef enum { RUNNING, DELAYING, DRAINING, STOPPING_WORKERS } phase;

typedef struct {
    pid_t pid;               /* 0 when not running */
    long long started_ms;
    long long restart_at_ms; /* > 0: restart due at this time */
    int backoff_ms;
} worker_slot;

typedef struct {
    hello_app *app;
    int signal_fd;
    hello_relay *relay;      /* nginx's stdout on its way to ours */
    int relay_write_fd;      /* the pipe's write end, until nginx has it */
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

/* ---------------------------------------------------------------- start-up */

static int make_run_dir(hello_app *app)
{
    snprintf(app->run_dir, sizeof app->run_dir, "%s/hello.XXXXXX", app->cfg.runtime_dir);
    if (mkdtemp(app->run_dir) == NULL) {
        hello_log_fields f;

        hello_log_fields_init(&f);
        hello_log_str(&f, "RUNTIME_DIR", app->cfg.runtime_dir);
        hello_log_str(&f, "error", strerror(errno));
        hello_log_emit(&app->log, HELLO_LOG_ERROR,
                       "RUNTIME_DIR is not writable: mount a writable volume there (a tmpfs or emptyDir)", &f);
        app->run_dir[0] = '\0';
        return -1;
    }
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void remove_run_dir(hello_app *app)
{
    if (app->run_dir[0] != '\0') nftw(app->run_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void socket_path(const hello_app *app, int index, char *out, size_t size)
{
    snprintf(out, size, "%s/worker-%d.sock", app->run_dir, index);
}

/* Creates worker index's listening socket. The master owns it: a restarted worker accepts
 * on the same path. Returns 0, or -1 with a log line. */
static int open_socket(hello_app *app, int index)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    socket_path(app, index, addr.sun_path, sizeof addr.sun_path);
    unlink(addr.sun_path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, SOMAXCONN) < 0) {
        hello_log(&app->log, HELLO_LOG_ERROR, "cannot listen on worker socket", "error", strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    app->listen_fds[index] = fd;
    return 0;
}

/* Closes a dead worker's socket, so nginx's connects fail at once and go to the next worker
 * instead of waiting in a backlog nobody accepts from. */
static void close_socket(hello_app *app, int index)
{
    if (app->listen_fds[index] >= 0) close(app->listen_fds[index]);
    app->listen_fds[index] = -1;
}

static int open_sockets(hello_app *app)
{
    for (int i = 0; i < app->cfg.workers; i++)
        if (open_socket(app, i) < 0) return -1;
    return 0;
}

/* The ${REAL_IP} block of the template: a set_real_ip_from line per TRUSTED_PROXY_CIDRS entry and
 * the header to read, or only a comment when the list is empty (the log shows the peer). The
 * entries are canonical CIDR text (config.c), so nothing else can reach nginx.conf. */
static void realip_directives(const hello_config *cfg, char *out, size_t out_size)
{
    size_t used = 0;

    if (cfg->trusted_proxy_count == 0) {
        snprintf(out, out_size, "# TRUSTED_PROXY_CIDRS is empty: $remote_addr is the connected peer.");
        return;
    }
    for (int i = 0; i < cfg->trusted_proxy_count; i++)
        used += (size_t)snprintf(out + used, out_size - used, "set_real_ip_from %s;\n    ", cfg->trusted_proxies[i]);
    snprintf(out + used, out_size - used, "real_ip_header X-Forwarded-For;\n    real_ip_recursive on;");
}

static int write_nginx_conf(hello_app *app, const char *tpl, char *conf_path, size_t conf_path_size)
{
    /* Room for every set_real_ip_from line and the two fixed directives. */
    char realip[HELLO_TRUSTED_PROXIES_MAX * (HELLO_CIDR_MAX + 24) + 96];
    char port[16], metrics_port[16], nginx_workers[16], err[256], sock[128];
    char *upstream = NULL, *conf = NULL;
    size_t upstream_size = (size_t)app->cfg.workers * 2 * 160 + 1, used = 0;
    int fd = -1, rc = -1;
    long n;

    upstream = malloc(upstream_size);
    conf = malloc(NGINX_CONF_MAX);
    if (upstream == NULL || conf == NULL) goto fail;
    upstream[0] = '\0';
    /* nginx, ngx_http_upstream_module, server: "max_fails=number sets the number of unsuccessful
     * attempts to communicate with the server that should happen in the duration set by the
     * fail_timeout parameter to consider the server unavailable for a duration also set by the
     * fail_timeout parameter" (what counts: fastcgi_next_upstream in the template). One error or
     * timeout (a dead or hung worker) takes a worker out for 2 s, as long as fastcgi_read_timeout.
     * A worker killed twice in a row, or all of them at once, would leave no live server for those
     * 2 s ("no live upstreams", 502) although the master restarts them in 100 ms; "backup: marks
     * the server as a backup server. It will be passed requests when the primary servers are
     * unavailable." So every socket is listed a second time as a backup that is never taken out. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < app->cfg.workers; i++) {
            socket_path(app, i, sock, sizeof sock);
            used += (size_t)snprintf(upstream + used, upstream_size - used, "%sserver unix:%s %s;\n",
                                     used == 0 ? "" : "        ", sock,
                                     pass == 0 ? "max_fails=1 fail_timeout=2s" : "backup max_fails=0");
        }
    }
    snprintf(port, sizeof port, "%d", app->cfg.port);
    snprintf(metrics_port, sizeof metrics_port, "%d", app->cfg.metrics_port);
    snprintf(nginx_workers, sizeof nginx_workers, "%d", app->cfg.nginx_workers);
    realip_directives(&app->cfg, realip, sizeof realip);
    hello_template_var vars[] = {
        {"LISTEN_ADDRESS", app->cfg.listen_address}, {"PORT", port}, {"METRICS_PORT", metrics_port},
        {"NGINX_WORKERS", nginx_workers}, {"RUNTIME_DIR", app->run_dir}, {"UPSTREAM_SERVERS", upstream},
        {"LOG_HEALTH_CHECKS", app->cfg.log_health_checks ? "1" : "0"}, {"REAL_IP", realip},
    };
    n = hello_template_render(tpl, vars, sizeof vars / sizeof vars[0], conf, NGINX_CONF_MAX, err, sizeof err);
    if (n < 0) {
        hello_log(&app->log, HELLO_LOG_ERROR, "cannot render the nginx configuration", "error", err);
        goto fail;
    }
    snprintf(conf_path, conf_path_size, "%s/nginx.conf", app->run_dir);
    fd = open(conf_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, conf, (size_t)n) != n) {
        hello_log(&app->log, HELLO_LOG_ERROR, "cannot write the nginx configuration", "error", strerror(errno));
        goto fail;
    }
    rc = 0;
fail:
    if (fd >= 0) close(fd);
    free(upstream);
    free(conf);
    return rc;
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
        sigset_t keep;

        close(m->signal_fd);
        if (m->relay != NULL && m->relay->in_fd >= 0) close(m->relay->in_fd);
        for (int i = 0; i < app->cfg.workers; i++)
            if (i != index && app->listen_fds[i] >= 0) close(app->listen_fds[i]);
        /* Keep SIGTERM/SIGINT/SIGQUIT blocked: the worker reads them from its signalfd. */
        sigemptyset(&keep);
        sigaddset(&keep, SIGTERM);
        sigaddset(&keep, SIGINT);
        sigaddset(&keep, SIGQUIT);
        child_setup(&keep);
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

static void begin_drain(master *m, const char *why)
{
    hello_app *app = m->app;

    atomic_store(&app->metrics->draining, 1);
    m->deadline_ms = now_ms() + app->cfg.grace_seconds * 1000LL;
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
            atomic_store(&app->metrics->draining, 1);
            m->exit_status = 1;
            m->deadline_ms = now_ms() + app->cfg.grace_seconds * 1000LL;
        } else {
            log_child(app, HELLO_LOG_INFO, "nginx stopped", "nginx", -1, pid, wstatus);
        }
        if (m->phase != STOPPING_WORKERS) stop_workers(m);
        return;
    }
    i = worker_index(m, pid);
    if (i < 0) return; /* an orphan re-parented to PID 1: reaped, nothing else to do */
    m->workers[i].pid = 0;
    close_socket(app, i);
    if (m->phase != RUNNING) {
        log_child(app, HELLO_LOG_DEBUG, "worker stopped", "worker", i, pid, wstatus);
        return;
    }
    log_child(app, HELLO_LOG_WARN, "worker died", "worker", i, pid, wstatus);
    if (app->cfg.disable_restart) return;
    worker_slot *w = &m->workers[i];
    if (now_ms() - w->started_ms >= STABLE_AFTER_MS) w->backoff_ms = 0;
    else w->backoff_ms = w->backoff_ms == 0 ? RESTART_BACKOFF_MIN_MS
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
            if (open_socket(m->app, i) == 0 && start_worker(m, i) == 0) {
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
    for (int i = 0; i < HELLO_MAX_WORKERS; i++) app->listen_fds[i] = -1;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGHUP);
    signal(SIGPIPE, SIG_IGN);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
        (m.signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        hello_log(&app->log, HELLO_LOG_ERROR, "cannot set up signal handling", "error", strerror(errno));
        return 2;
    }
    if (make_run_dir(app) < 0) goto fail;
    if (open_sockets(app) < 0) goto fail;
    if (write_nginx_conf(app, tpl, conf_path, sizeof conf_path) < 0) goto fail;

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
    for (int i = 0; i < HELLO_MAX_WORKERS; i++)
        if (app->listen_fds[i] >= 0) close(app->listen_fds[i]);
    remove_run_dir(app);
    close(m.signal_fd);
    if (m.relay_write_fd >= 0) close(m.relay_write_fd);
    if (m.relay != NULL && m.relay->in_fd >= 0) close(m.relay->in_fd);
    free(m.relay);
    return m.exit_status;
}
