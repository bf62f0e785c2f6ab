#include "cpulimit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SMALL_FILE_MAX 8192 /* /proc/self/cgroup lists one line per hierarchy: a few hundred bytes */

/* Reads at most size - 1 bytes of path into buf and terminates them. Returns 0, or -1. */
static int read_small(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t used = 0;

    if (fd < 0) return -1;
    while (used < size - 1) {
        ssize_t n = read(fd, buf + used, size - 1 - used);

        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            close(fd);
            return -1;
        }
        if (n == 0) break;
        used += (size_t)n;
    }
    close(fd);
    buf[used] = '\0';
    return 0;
}

/* Parses a whole non-negative decimal number from s up to end (exclusive, or NUL).
 * Returns 0, or -1 when it is not one or does not fit. */
static int parse_count(const char *s, const char *end, long long *out)
{
    long long v = 0;

    if (s == end || *s == '\0') return -1;
    for (; s != end && *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > (LLONG_MAX - 9) / 10) return -1;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

/* Whole CPUs in quota per period, rounded up, capped at cap (so a huge quota cannot overflow). */
static int quota_cpus(long long quota, long long period, int cap)
{
    long long whole = quota / period + (quota % period != 0);

    return whole >= cap ? cap : (int)whole;
}

/* ---------------------------------------------------------------- the limit files of one cgroup */

/* cgroup v2. https://docs.kernel.org/admin-guide/cgroup-v2.html, "cpu.max": "The maximum bandwidth
 * limit. It's in the following format: $MAX $PERIOD which indicates that the group may consume up
 * to $MAX in each $PERIOD duration. "max" for $MAX indicates no limit."
 * Returns the limit in CPUs, or 0 when there is none or the file cannot be read or parsed. */
static int v2_limit(const char *dir, int cap)
{
    char path[PATH_MAX], text[128];
    long long quota, period;
    const char *space;

    if (snprintf(path, sizeof path, "%s/cpu.max", dir) >= (int)sizeof path) return 0;
    if (read_small(path, text, sizeof text) < 0) return 0;
    text[strcspn(text, "\n")] = '\0';
    space = strchr(text, ' ');
    if (space == NULL || strncmp(text, "max ", 4) == 0) return 0;
    if (parse_count(text, space, &quota) < 0 || parse_count(space + 1, NULL, &period) < 0) return 0;
    if (quota <= 0 || period <= 0) return 0;
    return quota_cpus(quota, period, cap);
}

/* cgroup v1. https://docs.kernel.org/scheduler/sched-bwc.html: "cpu.cfs_quota_us: the total
 * available run-time within a period (in microseconds) / cpu.cfs_period_us: the length of a period
 * (in microseconds)" and "A value of -1 for cpu.cfs_quota_us indicates that the group does not
 * have any bandwidth restriction in place". Returns the limit in CPUs, or 0 as v2_limit does. */
static int v1_limit(const char *dir, int cap)
{
    char path[PATH_MAX], text[64];
    long long quota, period;

    if (snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir) >= (int)sizeof path) return 0;
    if (read_small(path, text, sizeof text) < 0) return 0;
    text[strcspn(text, "\n")] = '\0';
    if (parse_count(text, NULL, &quota) < 0 || quota == 0) return 0; /* "-1" fails the parse: no limit */
    if (snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir) >= (int)sizeof path) return 0;
    if (read_small(path, text, sizeof text) < 0) return 0;
    text[strcspn(text, "\n")] = '\0';
    if (parse_count(text, NULL, &period) < 0 || period == 0) return 0;
    return quota_cpus(quota, period, cap);
}

typedef int (*limit_fn)(const char *dir, int cap);

/* The tightest limit of cgroup rel (a path from self_cgroup) and its ancestors under mount, or 0.
 * man 7 cgroups: "the limits placed on a cgroup at a higher level in the hierarchy cannot be
 * exceeded by descendant cgroups." Directories that do not exist are passed over: in a container
 * without its own cgroup namespace the path names the host's view ("/docker/<id>") while the
 * mount shows the container's own cgroup as its root, whose limit is then the one read. */
static int tightest(const char *mount, const char *rel, limit_fn limit, int cap)
{
    char dir[PATH_MAX];
    size_t mount_len = strlen(mount);
    int best = 0;

    if (rel[0] != '/' || snprintf(dir, sizeof dir, "%s%s", mount, rel) >= (int)sizeof dir) return 0;
    for (;;) {
        int cpus;
        char *slash;

        while (strlen(dir) > mount_len && dir[strlen(dir) - 1] == '/') dir[strlen(dir) - 1] = '\0';
        cpus = limit(dir, cap);
        if (cpus > 0 && (best == 0 || cpus < best)) best = cpus;
        if (strlen(dir) <= mount_len) break;
        slash = strrchr(dir + mount_len, '/');
        if (slash == NULL) break;
        *slash = '\0';
    }
    return best;
}

/* 1 when the comma-separated controller list [list, end) names "cpu". */
static int lists_cpu(const char *list, const char *end)
{
    while (list < end) {
        const char *comma = memchr(list, ',', (size_t)(end - list));
        const char *stop = comma != NULL ? comma : end;

        if (stop - list == 3 && memcmp(list, "cpu", 3) == 0) return 1;
        list = stop + 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- entry */

int hello_cpu_limit(const char *cgroup_root, const char *self_cgroup, int affinity)
{
    /* Where distributions and runtimes mount the hierarchies: cgroup v2 alone at the root, or
     * beside v1 as "unified" (systemd's hybrid layout); v1's cpu controller under its own name
     * or co-mounted with cpuacct. */
    static const char *const v2_mounts[] = {"", "/unified"};
    static const char *const v1_mounts[] = {"/cpu", "/cpu,cpuacct", "/cpuacct,cpu"};
    char *text = malloc(SMALL_FILE_MAX);
    char mount[PATH_MAX];
    int best = 0;

    if (affinity < 1) affinity = 1;
    if (text == NULL || read_small(self_cgroup, text, SMALL_FILE_MAX) < 0) goto done;
    /* man 7 cgroups, /proc/pid/cgroup: "hierarchy-ID:controller-list:cgroup-path" per line; "For
     * the cgroups version 2 hierarchy, this field contains the value 0" and the list is empty. */
    for (char *line = text, *next; *line != '\0'; line = next) {
        char *c1, *c2;
        const char *const *mounts;
        size_t n_mounts;
        limit_fn limit;

        next = line + strcspn(line, "\n");
        if (*next == '\n') *next++ = '\0';
        c1 = strchr(line, ':');
        c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL) continue;
        if (c1 - line == 1 && line[0] == '0' && c2 == c1 + 1) {
            mounts = v2_mounts;
            n_mounts = sizeof v2_mounts / sizeof v2_mounts[0];
            limit = v2_limit;
        } else if (lists_cpu(c1 + 1, c2)) {
            mounts = v1_mounts;
            n_mounts = sizeof v1_mounts / sizeof v1_mounts[0];
            limit = v1_limit;
        } else {
            continue;
        }
        for (size_t i = 0; i < n_mounts; i++) {
            int cpus;

            if (snprintf(mount, sizeof mount, "%s%s", cgroup_root, mounts[i]) >= (int)sizeof mount) continue;
            cpus = tightest(mount, c2 + 1, limit, affinity);
            if (cpus > 0 && (best == 0 || cpus < best)) best = cpus;
        }
    }
done:
    free(text);
    return best > 0 ? best : affinity;
}
