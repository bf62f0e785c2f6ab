/* hello: a FastCGI responder behind nginx. main() only wires configuration and the mode. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "app.h"
#include "cpulimit.h"
#include "healthcheck.h"
#include "master.h"
#include "runtime.h"

#ifndef HELLO_VERSION
#define HELLO_VERSION "dev"
#endif
#ifndef HELLO_COMMIT
#define HELLO_COMMIT "unknown"
#endif
/* The CPU the compiler targeted, named as image platforms name it (linux/<arch>), so
 * /metrics says which variant of the image runs. */
#if defined(__aarch64__)
#define HELLO_ARCH "arm64"
#elif defined(__x86_64__)
#define HELLO_ARCH "amd64"
#else
#define HELLO_ARCH "unknown"
#endif

static const char usage[] = "usage: hello [--healthcheck | --version | --help]\n"
                            "Runs nginx and the FastCGI workers; configured only through environment variables:\n"
                            "  PORT METRICS_PORT LISTEN_ADDRESS WORKERS NGINX_WORKERS GRACE_SECONDS\n"
                            "  SHUTDOWN_DELAY_SECONDS FASTCGI_DEADLINE_MS LOG_LEVEL LOG_HEALTH_CHECKS\n"
                            "  WORKER_SCHED_POLICY RUNTIME_DIR NGINX_BIN NGINX_TEMPLATE TRUSTED_PROXY_CIDRS\n"
                            "WORKERS and NGINX_WORKERS default to the container's CPU quota (cgroup v2\n"
                            "cpu.max, v1 cpu.cfs_quota_us) rounded up, at most the CPUs this process may\n"
                            "run on and at least 1; set them to override.\n"
                            "TRUSTED_PROXY_CIDRS (default empty): comma-separated CIDRs of the load balancers,\n"
                            "e.g. 10.0.0.0/16,fd00::/8; the access log then shows the client address from\n"
                            "their X-Forwarded-For instead of the balancer's.\n";

static const char *env(const char *name)
{
    return getenv(name);
}

/* The room worker titles may use: argv[0] and everything contiguous after it (the other
 * arguments, then the environment strings, as the kernel lays them out), the way nginx's
 * ngx_init_setproctitle does it. The environment is copied first, so getenv and setenv keep
 * working. Returns the size, at least strlen(argv[0]). */
static size_t claim_title_space(char **argv)
{
    extern char **environ;
    char *end = argv[0] + strlen(argv[0]) + 1;
    size_t n = 0;
    char **copy;

    for (int i = 1; argv[i] != NULL; i++)
        if (argv[i] == end) end = argv[i] + strlen(argv[i]) + 1;
    while (environ[n] != NULL) n++;
    copy = malloc((n + 1) * sizeof *copy);
    if (copy == NULL) return strlen(argv[0]);
    for (size_t i = 0; i < n; i++) {
        copy[i] = strdup(environ[i]);
        if (copy[i] == NULL) { /* keep the original environment and the short title */
            while (i > 0) free(copy[--i]);
            free(copy);
            return strlen(argv[0]);
        }
        if (environ[i] == end) end = environ[i] + strlen(environ[i]) + 1;
    }
    copy[n] = NULL;
    environ = copy;
    return (size_t)(end - argv[0]) - 1;
}

/* The default for WORKERS and NGINX_WORKERS: the CPUs in the affinity mask, lowered to the
 * cgroup's CPU quota when there is one (see cpulimit.h). */
static int cpu_count(void)
{
    cpu_set_t set;
    int affinity;

    if (sched_getaffinity(0, sizeof set, &set) == 0) affinity = CPU_COUNT(&set);
    else affinity = (int)sysconf(_SC_NPROCESSORS_ONLN);
    return hello_cpu_limit("/sys/fs/cgroup", "/proc/self/cgroup", affinity);
}

static double wall_seconds(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* ---------------------------------------------------------------- parse, configure, run */

typedef enum { RUN, HEALTHCHECK, SHOW_VERSION, SHOW_HELP, BAD_USAGE } command;

static command parse(int argc, char **argv)
{
    if (argc == 1) return RUN;
    if (strcmp(argv[1], "--version") == 0) return SHOW_VERSION;
    if (strcmp(argv[1], "--help") == 0) return SHOW_HELP;
    if (argc == 2 && strcmp(argv[1], "--healthcheck") == 0) return HEALTHCHECK;
    return BAD_USAGE;
}

/* Fills app from the build and the environment. Returns 0, or -1 with a log line. */
static int configure(hello_app *app, char **argv)
{
    char err[256];

    app->log = (hello_logger){.level = HELLO_LOG_INFO, .fd = 2, .component = "master"};
    app->build = (hello_build_info){.version = HELLO_VERSION, .commit = HELLO_COMMIT, .arch = HELLO_ARCH};
    app->title = argv[0];
    app->title_size = strlen(argv[0]);
    if (hello_config_load(&app->cfg, env, cpu_count(), err, sizeof err) < 0) {
        hello_log(&app->log, HELLO_LOG_ERROR, "invalid configuration", "error", err);
        return -1;
    }
    app->log.level = app->cfg.log_level;
    return 0;
}

/* The stack: start-up as started (runtime.h), the shared metrics, then the master until it stops.
 * Returns the process exit status (master.h). */
static int run(hello_app *app, char **argv)
{
    char *tpl;
    int status = 2;

    app->title_size = claim_title_space(argv);
    tpl = hello_runtime_prepare(app);
    if (tpl == NULL) return 2;
    app->metrics = hello_metrics_create(app->cfg.workers, wall_seconds());
    if (app->metrics == NULL) {
        hello_log(&app->log, HELLO_LOG_ERROR, "cannot allocate shared memory", "error", strerror(errno));
        goto done;
    }
    status = hello_master_run(app, tpl);
    hello_metrics_destroy(app->metrics);
done:
    free(tpl);
    return status;
}

int main(int argc, char **argv)
{
    static hello_app app;

    switch (parse(argc, argv)) {
    case SHOW_VERSION: printf("hello %s (%s)\n", HELLO_VERSION, HELLO_COMMIT); return 0;
    case SHOW_HELP: fputs(usage, stdout); return 0;
    case BAD_USAGE: fputs(usage, stderr); return 2;
    case HEALTHCHECK: return configure(&app, argv) < 0 ? 2 : hello_healthcheck(&app.cfg);
    case RUN: break;
    }
    return configure(&app, argv) < 0 ? 2 : run(&app, argv);
}
