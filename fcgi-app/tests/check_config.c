/* Unit tests: configuration from environment variables, with clear errors naming the variable. */
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static const char *const *table; /* NULL-terminated name, value pairs */

static const char *fake_env(const char *name)
{
    for (const char *const *p = table; p != NULL && p[0] != NULL; p += 2)
        if (strcmp(p[0], name) == 0) return p[1];
    return NULL;
}

static int load(const char *const *vars, hello_config *cfg, char *err)
{
    table = vars;
    err[0] = '\0';
    return hello_config_load(cfg, fake_env, 4, err, 256);
}

START_TEST(defaults)
{
    static const char *const none[] = {NULL};
    hello_config cfg;
    char err[256];

    ck_assert_int_eq(load(none, &cfg, err), 0);
    ck_assert_int_eq(cfg.port, 8080);
    ck_assert_int_eq(cfg.metrics_port, 9090);
    ck_assert_int_eq(cfg.workers, 4);
    ck_assert_int_eq(cfg.nginx_workers, 4);
    ck_assert_int_eq(cfg.grace_seconds, 20);
    ck_assert_int_eq(cfg.shutdown_delay_seconds, 0);
    ck_assert_int_eq(cfg.fastcgi_deadline_ms, 1000);
    ck_assert_int_eq(cfg.log_level, HELLO_LOG_INFO);
    ck_assert_str_eq(cfg.runtime_dir, "/tmp");
    ck_assert_str_eq(cfg.listen_address, "0.0.0.0");
    ck_assert_str_eq(cfg.nginx_bin, "/usr/sbin/nginx");
    ck_assert_int_eq(cfg.worker_batch, 0);
    ck_assert_int_eq(cfg.disable_restart, 0);
    ck_assert_int_eq(cfg.log_health_checks, 0);
}
END_TEST

START_TEST(overrides)
{
    /* One name and its value per line. */
    /* clang-format off */
    static const char *const vars[] = {
        "PORT", "18080",
        "METRICS_PORT", "19090",
        "WORKERS", "2",
        "GRACE_SECONDS", "5",
        "SHUTDOWN_DELAY_SECONDS", "1",
        "LOG_LEVEL", "debug",
        "RUNTIME_DIR", "/run/hello",
        "LISTEN_ADDRESS", "127.0.0.1",
        "WORKER_SCHED_POLICY", "batch",
        "HELLO_TEST_DISABLE_RESTART", "1",
        "FASTCGI_DEADLINE_MS", "250",
        "LOG_HEALTH_CHECKS", "1",
        NULL,
    };
    /* clang-format on */
    hello_config cfg;
    char err[256];

    ck_assert_int_eq(load(vars, &cfg, err), 0);
    ck_assert_int_eq(cfg.port, 18080);
    ck_assert_int_eq(cfg.metrics_port, 19090);
    ck_assert_int_eq(cfg.workers, 2);
    ck_assert_int_eq(cfg.grace_seconds, 5);
    ck_assert_int_eq(cfg.shutdown_delay_seconds, 1);
    ck_assert_int_eq(cfg.log_level, HELLO_LOG_DEBUG);
    ck_assert_str_eq(cfg.runtime_dir, "/run/hello");
    ck_assert_str_eq(cfg.listen_address, "127.0.0.1");
    ck_assert_int_eq(cfg.worker_batch, 1);
    ck_assert_int_eq(cfg.disable_restart, 1);
    ck_assert_int_eq(cfg.fastcgi_deadline_ms, 250);
    ck_assert_int_eq(cfg.log_health_checks, 1);
}
END_TEST

/* Each bad value must fail and name its variable in the message. */
START_TEST(bad_values_name_the_variable)
{
    static const char *const cases[][3] = {
        {"PORT", "0", "PORT"},
        {"PORT", "65536", "PORT"},
        {"PORT", "80a", "PORT"},
        {"PORT", "", "PORT"},
        {"PORT", "+80", "PORT"},
        {"PORT", "99999999999999999999", "PORT"},
        {"METRICS_PORT", "-1", "METRICS_PORT"},
        {"METRICS_PORT", "8080", "METRICS_PORT"}, /* same as PORT */
        {"WORKERS", "0", "WORKERS"},
        {"WORKERS", "65", "WORKERS"},
        {"WORKERS", "two", "WORKERS"},
        {"GRACE_SECONDS", "0", "GRACE_SECONDS"},
        {"FASTCGI_DEADLINE_MS", "5", "FASTCGI_DEADLINE_MS"},
        {"FASTCGI_DEADLINE_MS", "60001", "FASTCGI_DEADLINE_MS"},
        {"FASTCGI_DEADLINE_MS", "1s", "FASTCGI_DEADLINE_MS"},
        {"SHUTDOWN_DELAY_SECONDS", "20", "SHUTDOWN_DELAY_SECONDS"}, /* not below GRACE_SECONDS */
        {"LOG_LEVEL", "verbose", "LOG_LEVEL"},
        {"RUNTIME_DIR", "relative/dir", "RUNTIME_DIR"},
        {"RUNTIME_DIR", "/a/very/long/runtime/directory/path/that/cannot/fit/in/a/unix/socket/path", "RUNTIME_DIR"},
        {"RUNTIME_DIR", "/tmp/a b", "RUNTIME_DIR"},                /* splits an nginx directive */
        {"RUNTIME_DIR", "/tmp/x;error_log /etc/x", "RUNTIME_DIR"}, /* would add a directive */
        {"RUNTIME_DIR", "/tmp/{", "RUNTIME_DIR"},
        {"RUNTIME_DIR", "/tmp/$host", "RUNTIME_DIR"},
        {"RUNTIME_DIR", "/tmp/\"q", "RUNTIME_DIR"},
        {"RUNTIME_DIR", "/tmp/#c", "RUNTIME_DIR"},
        {"RUNTIME_DIR", "/tmp/\n", "RUNTIME_DIR"},
        {"LISTEN_ADDRESS", "localhost", "LISTEN_ADDRESS"},
        {"LISTEN_ADDRESS", "::1", "LISTEN_ADDRESS"},
        {"NGINX_BIN", "nginx", "NGINX_BIN"},
        {"WORKER_SCHED_POLICY", "fifo", "WORKER_SCHED_POLICY"},
        {"WORKER_SCHED_POLICY", "", "WORKER_SCHED_POLICY"},
        {"WORKER_SCHED_POLICY", "BATCH", "WORKER_SCHED_POLICY"},
        {"HELLO_TEST_DISABLE_RESTART", "yes", "HELLO_TEST_DISABLE_RESTART"},
        {"LOG_HEALTH_CHECKS", "yes", "LOG_HEALTH_CHECKS"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *vars[] = {cases[i][0], cases[i][1], NULL};
        hello_config cfg;
        char err[256];

        ck_assert_msg(load(vars, &cfg, err) == -1, "%s=%s accepted", cases[i][0], cases[i][1]);
        ck_assert_msg(strstr(err, cases[i][2]) != NULL, "message \"%s\" does not name %s", err, cases[i][2]);
    }
}
END_TEST

/* ------------------------------------------------------------ TRUSTED_PROXY_CIDRS */

START_TEST(trusted_proxies_default_to_none)
{
    static const char *const none[] = {NULL};
    static const char *const empty[] = {"TRUSTED_PROXY_CIDRS", "", NULL};
    hello_config cfg;
    char err[256];

    ck_assert_int_eq(load(none, &cfg, err), 0);
    ck_assert_int_eq(cfg.trusted_proxy_count, 0);
    ck_assert_int_eq(load(empty, &cfg, err), 0);
    ck_assert_int_eq(cfg.trusted_proxy_count, 0);
}
END_TEST

START_TEST(trusted_proxies_parse_v4_and_v6_in_canonical_form)
{
    static const char *const vars[] = {"TRUSTED_PROXY_CIDRS",
                                       "10.0.0.0/16, 192.168.1.7/32,\t0.0.0.0/0,fd00::/8,2001:0DB8:0000::/32,::1/128,"
                                       "::ffff:10.0.0.0/104,0000:0000:0000:0000:0000:ffff:255.255.255.255/128",
                                       NULL};
    static const char *const want[] = {
        "10.0.0.0/16",   "192.168.1.7/32", "0.0.0.0/0",           "fd00::/8",
        "2001:db8::/32", "::1/128",        "::ffff:10.0.0.0/104", "::ffff:255.255.255.255/128"};
    hello_config cfg;
    char err[256];

    ck_assert_msg(load(vars, &cfg, err) == 0, "%s", err);
    ck_assert_int_eq(cfg.trusted_proxy_count, (int)(sizeof want / sizeof want[0]));
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) ck_assert_str_eq(cfg.trusted_proxies[i], want[i]);
}
END_TEST

START_TEST(trusted_proxies_hold_up_to_the_limit)
{
    char list[HELLO_TRUSTED_PROXIES_MAX * 20 + 32];
    const char *vars[] = {"TRUSTED_PROXY_CIDRS", list, NULL};
    size_t used = 0;
    hello_config cfg;
    char err[256];

    for (int i = 0; i < HELLO_TRUSTED_PROXIES_MAX; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s10.%d.0.0/16", i ? "," : "", i);
    ck_assert_msg(load(vars, &cfg, err) == 0, "%s", err);
    ck_assert_int_eq(cfg.trusted_proxy_count, HELLO_TRUSTED_PROXIES_MAX);
    snprintf(list + used, sizeof list - used, ",10.255.0.0/16");
    ck_assert_int_eq(load(vars, &cfg, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "TRUSTED_PROXY_CIDRS"));
    ck_assert_int_eq(cfg.trusted_proxy_count, 0);
}
END_TEST

/* Everything that is not a list of CIDRs is refused, naming the variable: nothing but canonical
 * CIDR text may reach nginx.conf. */
START_TEST(trusted_proxies_refuse_anything_else)
{
    static const char *const bad[] = {
        "10.0.0.0",    /* no prefix */
        "fd00::",      /* no prefix */
        "10.0.0.0/",   /* empty prefix */
        "10.0.0.0/33", /* longer than IPv4 */
        "fd00::/129",  /* longer than IPv6 */
        "10.0.0.0/-1",
        "10.0.0.0/+8",
        "10.0.0.0/08",
        "10.0.0.0/0008",
        "10.0.0.1/8", /* host bits set */
        "fd00::1/8",
        "10.0.0/8", /* not an address */
        "010.0.0.0/8",
        "10.0.0.256/32",
        "example.com/16",
        "fe80::1%eth0/64",
        "unix:", /* nginx accepts it; the variable does not */
        "junk",
        "10.0.0.0/8; evil", /* would add a directive */
        "10.0.0.0/8;",
        "10.0.0.0/8;\nreal_ip_header X-Real-IP",
        "10.0.0.0/8 192.168.0.0/16",
        "10.0.0.0/8}",
        "10.0.0.0/8#",
        "$remote_addr/8",
        "10.0.0.0/8,", /* empty entry */
        ",10.0.0.0/8",
        "10.0.0.0/8,,fd00::/8",
        " ",
        "10.0.0.0/8,junk",
        "1111:2222:3333:4444:5555:6666:7777:8888:9999/128", /* too long */
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *vars[] = {"TRUSTED_PROXY_CIDRS", bad[i], NULL};
        hello_config cfg;
        char err[256];

        ck_assert_msg(load(vars, &cfg, err) == -1, "TRUSTED_PROXY_CIDRS=\"%s\" accepted", bad[i]);
        ck_assert_msg(strstr(err, "TRUSTED_PROXY_CIDRS") != NULL, "message \"%s\" does not name the variable", err);
    }
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *core = tcase_create("Core");
    TCase *limits = tcase_create("Limits");
    TCase *bad = tcase_create("Bad input");

    tcase_add_test(core, defaults);
    tcase_add_test(core, overrides);
    tcase_add_test(bad, bad_values_name_the_variable);
    tcase_add_test(core, trusted_proxies_default_to_none);
    tcase_add_test(core, trusted_proxies_parse_v4_and_v6_in_canonical_form);
    tcase_add_test(limits, trusted_proxies_hold_up_to_the_limit);
    tcase_add_test(bad, trusted_proxies_refuse_anything_else);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return hello_check_run(config_suite());
}
