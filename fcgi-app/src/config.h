#ifndef HELLO_CONFIG_H_
#define HELLO_CONFIG_H_

#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>

#include "log.h"

/* Configuration, read only from environment variables and validated once at start-up. */

#define HELLO_MAX_WORKERS 64                  /* WORKERS and NGINX_WORKERS, at most */
#define HELLO_RUNTIME_DIR_MAX 64              /* leaves room for "/hello.XXXXXX/worker-NN.sock" in sun_path */
#define HELLO_TRUSTED_PROXIES_MAX 32          /* CIDRs in TRUSTED_PROXY_CIDRS */
#define HELLO_CIDR_MAX (INET6_ADDRSTRLEN + 4) /* "address/128" and its NUL */

typedef struct {
    char listen_address[16];                 /* LISTEN_ADDRESS, IPv4 literal, default 0.0.0.0 */
    int port;                                /* PORT, default 8080 */
    int metrics_port;                        /* METRICS_PORT, default 9090 */
    int workers;                             /* WORKERS, default: the CPU limit (cpulimit.h) */
    int nginx_workers;                       /* NGINX_WORKERS, default: the CPU limit too */
    int grace_seconds;                       /* GRACE_SECONDS, default 20 */
    int shutdown_delay_seconds;              /* SHUTDOWN_DELAY_SECONDS, default 0 */
    int fastcgi_deadline_ms;                 /* FASTCGI_DEADLINE_MS, default 1000: a request's bytes, all of them */
    hello_log_level log_level;               /* LOG_LEVEL, default info */
    char runtime_dir[HELLO_RUNTIME_DIR_MAX]; /* RUNTIME_DIR, default /tmp */
    char nginx_bin[PATH_MAX];                /* NGINX_BIN, default /usr/sbin/nginx */
    char nginx_template[PATH_MAX];           /* NGINX_TEMPLATE, default /etc/hello/nginx.conf.template */
    int worker_batch;                        /* WORKER_SCHED_POLICY=batch (1) or other (0, default) */
    int log_health_checks;                   /* LOG_HEALTH_CHECKS=1: log hello --healthcheck's requests too */
    int disable_restart;                     /* HELLO_TEST_DISABLE_RESTART=1: tests only */
    /* TRUSTED_PROXY_CIDRS: the load balancers' networks, whose X-Forwarded-For nginx believes
     * (ngx_http_realip_module). Canonical "address/prefix" text, checked and safe to write into
     * nginx.conf; none by default, and then the access log's remote_addr is the connected peer. */
    int trusted_proxy_count;
    char trusted_proxies[HELLO_TRUSTED_PROXIES_MAX][HELLO_CIDR_MAX];
} hello_config;

/* Reads a variable; NULL when unset. getenv in production, a table in tests. */
typedef const char *(*hello_getenv_fn)(const char *name);

/* Fills cfg from the environment. cpus is the default for WORKERS and NGINX_WORKERS.
 * Returns 0, or -1 with a one-line message naming the variable in err. */
int hello_config_load(hello_config *cfg, hello_getenv_fn get, int cpus, char *err, size_t err_size);

#endif /* HELLO_CONFIG_H_ */
