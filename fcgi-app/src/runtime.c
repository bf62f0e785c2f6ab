#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "template.h"

#define TEMPLATE_MAX (64 * 1024)
#define NGINX_CONF_MAX (64 * 1024)
#define UNPRIVILEGED_ID 65534 /* nobody */

/* ---------------------------------------------------------------- as started */

/* Reads the whole template into a new buffer. Returns NULL with a log line on failure. */
static char *read_template(const hello_app *app)
{
    FILE *f = fopen(app->cfg.nginx_template, "r");
    char *buf = malloc(TEMPLATE_MAX);
    size_t n = 0;

    if (f == NULL || buf == NULL) goto fail;
    n = fread(buf, 1, TEMPLATE_MAX - 1, f);
    if (ferror(f) || !feof(f)) goto fail;
    buf[n] = '\0';
    fclose(f);
    return buf;
fail:
    hello_log(&app->log, HELLO_LOG_ERROR, "cannot read the nginx template (NGINX_TEMPLATE)", "path",
              app->cfg.nginx_template);
    if (f != NULL) fclose(f);
    free(buf);
    return NULL;
}

/* Started as root (a bare `docker run --user 0`, a CI shell): run everything as nobody, so nginx
 * never switches users and every process can reach the sockets. nginx's stdout is a pipe the
 * master makes after this (relay.h), so a terminal or a root-owned file as stdout works too. */
static int drop_root(const hello_app *app)
{
    if (geteuid() != 0) return 0;
    if (setgroups(0, NULL) < 0 || setgid(UNPRIVILEGED_ID) < 0 || setuid(UNPRIVILEGED_ID) < 0) {
        hello_log(&app->log, HELLO_LOG_ERROR, "started as root and cannot drop privileges", "error", strerror(errno));
        return -1;
    }
    hello_log(&app->log, HELLO_LOG_WARN, "started as root: running as uid 65534 (nobody)", NULL, NULL);
    return 0;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

char *hello_runtime_prepare(const hello_app *app)
{
    char *tpl;

    raise_fd_limit();
    tpl = read_template(app);
    if (tpl != NULL && drop_root(app) < 0) {
        free(tpl);
        return NULL;
    }
    return tpl;
}

/* ---------------------------------------------------------------- the runtime directory */

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

int hello_runtime_open_socket(hello_app *app, int index)
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

void hello_runtime_close_socket(hello_app *app, int index)
{
    if (app->listen_fds[index] >= 0) close(app->listen_fds[index]);
    app->listen_fds[index] = -1;
}

static int open_sockets(hello_app *app)
{
    for (int i = 0; i < app->cfg.workers; i++)
        if (hello_runtime_open_socket(app, i) < 0) return -1;
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
        {"LISTEN_ADDRESS", app->cfg.listen_address},
        {"PORT", port},
        {"METRICS_PORT", metrics_port},
        {"NGINX_WORKERS", nginx_workers},
        {"RUNTIME_DIR", app->run_dir},
        {"UPSTREAM_SERVERS", upstream},
        {"LOG_HEALTH_CHECKS", app->cfg.log_health_checks ? "1" : "0"},
        {"REAL_IP", realip},
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

int hello_runtime_open(hello_app *app, const char *tpl, char *conf_path, size_t conf_path_size)
{
    for (int i = 0; i < HELLO_MAX_WORKERS; i++) app->listen_fds[i] = -1;
    if (make_run_dir(app) < 0 || open_sockets(app) < 0) return -1;
    return write_nginx_conf(app, tpl, conf_path, conf_path_size);
}

void hello_runtime_close(hello_app *app)
{
    for (int i = 0; i < HELLO_MAX_WORKERS; i++) hello_runtime_close_socket(app, i);
    remove_run_dir(app);
}
