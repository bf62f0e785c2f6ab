#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Characters a value may hold to be written into nginx.conf as it is. */
#define NGINX_SAFE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-"

/* Parses a decimal integer in [min, max] from NAME, or keeps *value when NAME is unset.
 * Returns 0, or -1 with a message in err. */
static int int_var(hello_getenv_fn get, const char *name, int min, int max, int *value, char *err, size_t err_size)
{
    const char *s = get(name);
    char *end;
    long v;

    if (s == NULL) return 0;
    errno = 0;
    v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max || s[0] == '+' || s[0] == ' ') {
        snprintf(err, err_size, "%s must be an integer from %d to %d, got \"%.40s\"", name, min, max, s);
        return -1;
    }
    *value = (int)v;
    return 0;
}

/* Copies NAME into out (size out_size) when set. Returns 0, or -1 with a message. */
static int str_var(hello_getenv_fn get, const char *name, char *out, size_t out_size, int must_be_absolute, char *err,
                   size_t err_size)
{
    const char *s = get(name);

    if (s == NULL) return 0;
    if (*s == '\0' || strlen(s) >= out_size) {
        snprintf(err, err_size, "%s must be a non-empty path shorter than %zu bytes", name, out_size);
        return -1;
    }
    if (must_be_absolute && s[0] != '/') {
        snprintf(err, err_size, "%s must be an absolute path, got \"%.40s\"", name, s);
        return -1;
    }
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

/* Sets *value to 0 when NAME is off_word and 1 when it is on_word; keeps it when NAME is unset.
 * Returns 0, or -1 with a message. */
static int choice_var(hello_getenv_fn get, const char *name, const char *off_word, const char *on_word, int *value,
                      char *err, size_t err_size)
{
    const char *s = get(name);

    if (s == NULL) return 0;
    if (strcmp(s, off_word) != 0 && strcmp(s, on_word) != 0) {
        snprintf(err, err_size, "%s must be %s or %s, got \"%.40s\"", name, off_word, on_word, s);
        return -1;
    }
    *value = strcmp(s, on_word) == 0;
    return 0;
}

/* Parses one CIDR, "address/prefix", of len bytes at s: an IPv4 or IPv6 address as inet_pton
 * reads it, a decimal prefix within the family's width, no bits set past the prefix. Writes its
 * canonical text (inet_ntop) to out, HELLO_CIDR_MAX bytes, so only hex digits, '.', ':' and '/'
 * reach nginx.conf. Returns 0, or -1 with the reason in why. */
static int parse_cidr(const char *s, size_t len, char *out, char *why, size_t why_size)
{
    char text[HELLO_CIDR_MAX], canonical[INET6_ADDRSTRLEN];
    unsigned char addr[sizeof(struct in6_addr)];
    char *slash;
    const char *p;
    int family;
    unsigned width, prefix = 0;

    if (len == 0) {
        snprintf(why, why_size, "an entry is empty");
        return -1;
    }
    if (len >= sizeof text) {
        snprintf(why, why_size, "\"%.*s...\" is too long for a CIDR", 20, s);
        return -1;
    }
    memcpy(text, s, len);
    text[len] = '\0';
    slash = strchr(text, '/');
    if (slash == NULL) {
        snprintf(why, why_size, "\"%s\" has no /prefix", text);
        return -1;
    }
    *slash = '\0';
    family = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
    width = family == AF_INET6 ? 128u : 32u;
    if (inet_pton(family, text, addr) != 1) {
        snprintf(why, why_size, "\"%s\" is not an IPv4 or IPv6 address", text);
        return -1;
    }
    p = slash + 1;
    if (*p == '\0' || strlen(p) > 3 || p[strspn(p, "0123456789")] != '\0' || (p[0] == '0' && p[1] != '\0')) {
        snprintf(why, why_size, "\"/%.8s\" is not a prefix length", p);
        return -1;
    }
    for (; *p != '\0'; p++) prefix = prefix * 10 + (unsigned)(*p - '0');
    if (prefix > width) {
        snprintf(why, why_size, "/%u is longer than the %u bits of the address", prefix, width);
        return -1;
    }
    for (unsigned bit = prefix; bit < width; bit++) {
        if (addr[bit / 8] & (0x80u >> (bit % 8))) {
            snprintf(why, why_size, "%s/%u has bits set past the prefix", text, prefix);
            return -1;
        }
    }
    if (inet_ntop(family, addr, canonical, sizeof canonical) == NULL) {
        snprintf(why, why_size, "cannot format %s", text);
        return -1;
    }
    snprintf(out, HELLO_CIDR_MAX, "%s/%u", canonical, prefix);
    return 0;
}

/* Reads TRUSTED_PROXY_CIDRS, a comma-separated list of CIDRs (blanks around each are ignored);
 * unset or empty means none. Returns 0, or -1 with a message naming the variable. */
static int trusted_proxies_var(hello_getenv_fn get, hello_config *cfg, char *err, size_t err_size)
{
    const char *s = get("TRUSTED_PROXY_CIDRS"), *item;
    char why[160];

    if (s == NULL || *s == '\0') return 0;
    for (item = s;; item++) {
        size_t len = strcspn(item, ",");
        const char *next = item + len;

        while (len > 0 && (*item == ' ' || *item == '\t')) item++, len--;
        while (len > 0 && (item[len - 1] == ' ' || item[len - 1] == '\t')) len--;
        if (cfg->trusted_proxy_count == HELLO_TRUSTED_PROXIES_MAX) {
            snprintf(why, sizeof why, "more than %d entries", HELLO_TRUSTED_PROXIES_MAX);
            goto fail;
        }
        if (parse_cidr(item, len, cfg->trusted_proxies[cfg->trusted_proxy_count], why, sizeof why) < 0) goto fail;
        cfg->trusted_proxy_count++;
        if (*next == '\0') return 0;
        item = next;
    }
fail:
    snprintf(err, err_size, "TRUSTED_PROXY_CIDRS must be comma-separated CIDRs such as 10.0.0.0/16,fd00::/8: %s", why);
    cfg->trusted_proxy_count = 0;
    return -1;
}

int hello_config_load(hello_config *cfg, hello_getenv_fn get, int cpus, char *err, size_t err_size)
{
    const char *s;
    struct in_addr addr;

    if (cpus < 1) cpus = 1;
    if (cpus > HELLO_MAX_WORKERS) cpus = HELLO_MAX_WORKERS;
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->listen_address, "0.0.0.0");
    cfg->port = 8080;
    cfg->metrics_port = 9090;
    cfg->workers = cpus;
    cfg->nginx_workers = cpus;
    cfg->grace_seconds = 20;
    cfg->shutdown_delay_seconds = 0;
    cfg->fastcgi_deadline_ms = 1000;
    cfg->log_level = HELLO_LOG_INFO;
    strcpy(cfg->runtime_dir, "/tmp");
    strcpy(cfg->nginx_bin, "/usr/sbin/nginx");
    strcpy(cfg->nginx_template, "/etc/hello/nginx.conf.template");

    if (int_var(get, "PORT", 1, 65535, &cfg->port, err, err_size) < 0) return -1;
    if (int_var(get, "METRICS_PORT", 1, 65535, &cfg->metrics_port, err, err_size) < 0) return -1;
    if (cfg->port == cfg->metrics_port) {
        snprintf(err, err_size, "METRICS_PORT must differ from PORT (both are %d)", cfg->port);
        return -1;
    }
    if (int_var(get, "WORKERS", 1, HELLO_MAX_WORKERS, &cfg->workers, err, err_size) < 0) return -1;
    if (int_var(get, "NGINX_WORKERS", 1, HELLO_MAX_WORKERS, &cfg->nginx_workers, err, err_size) < 0) return -1;
    if (int_var(get, "GRACE_SECONDS", 1, 3600, &cfg->grace_seconds, err, err_size) < 0) return -1;
    if (int_var(get, "SHUTDOWN_DELAY_SECONDS", 0, 3600, &cfg->shutdown_delay_seconds, err, err_size) < 0) return -1;
    if (cfg->shutdown_delay_seconds >= cfg->grace_seconds) {
        snprintf(err, err_size, "SHUTDOWN_DELAY_SECONDS (%d) must be less than GRACE_SECONDS (%d)",
                 cfg->shutdown_delay_seconds, cfg->grace_seconds);
        return -1;
    }
    if (int_var(get, "FASTCGI_DEADLINE_MS", 10, 60000, &cfg->fastcgi_deadline_ms, err, err_size) < 0) return -1;
    s = get("LOG_LEVEL");
    if (s != NULL && hello_log_level_parse(s, &cfg->log_level) < 0) {
        snprintf(err, err_size, "LOG_LEVEL must be one of debug, info, warn, error, got \"%.40s\"", s);
        return -1;
    }
    s = get("LISTEN_ADDRESS");
    if (s != NULL) {
        if (strlen(s) >= sizeof cfg->listen_address || inet_pton(AF_INET, s, &addr) != 1) {
            snprintf(err, err_size, "LISTEN_ADDRESS must be an IPv4 address such as 0.0.0.0, got \"%.40s\"", s);
            return -1;
        }
        strcpy(cfg->listen_address, s);
    }
    if (str_var(get, "RUNTIME_DIR", cfg->runtime_dir, sizeof cfg->runtime_dir, 1, err, err_size) < 0) return -1;
    /* RUNTIME_DIR is written into nginx.conf unquoted (pid, temp paths, upstream sockets): a space
     * would split the directive and a ';' or brace would end it or open another. */
    if (cfg->runtime_dir[strspn(cfg->runtime_dir, NGINX_SAFE_CHARS)] != '\0') {
        snprintf(err, err_size,
                 "RUNTIME_DIR may hold only letters, digits and / . _ - (it goes into nginx.conf), "
                 "got \"%.40s\"",
                 cfg->runtime_dir);
        return -1;
    }
    if (str_var(get, "NGINX_BIN", cfg->nginx_bin, sizeof cfg->nginx_bin, 1, err, err_size) < 0) return -1;
    if (str_var(get, "NGINX_TEMPLATE", cfg->nginx_template, sizeof cfg->nginx_template, 0, err, err_size) < 0)
        return -1;
    if (choice_var(get, "WORKER_SCHED_POLICY", "other", "batch", &cfg->worker_batch, err, err_size) < 0) return -1;
    if (choice_var(get, "LOG_HEALTH_CHECKS", "0", "1", &cfg->log_health_checks, err, err_size) < 0) return -1;
    if (choice_var(get, "HELLO_TEST_DISABLE_RESTART", "0", "1", &cfg->disable_restart, err, err_size) < 0) return -1;
    if (trusted_proxies_var(get, cfg, err, err_size) < 0) return -1;
    return 0;
}
