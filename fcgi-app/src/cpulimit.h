#ifndef HELLO_CPULIMIT_H_
#define HELLO_CPULIMIT_H_

/* How many CPUs the process may really use: the default for WORKERS and NGINX_WORKERS.
 * A container sees every CPU of its node in its affinity mask; what bounds it is its cgroup's CPU
 * bandwidth quota. Sizing workers by the node (16 or 64 nginx workers in a pod limited to half a
 * CPU) wastes memory under a small memory limit and gets the pod throttled. Like the Go runtime's
 * GOMAXPROCS default since Go 1.25 and the JVM's UseContainerSupport, the quota wins, rounded up. */

/* Returns the CPU limit of the process whose cgroup membership file (/proc/self/cgroup format,
 * "0::/path" for cgroup v2, "N:cpu,cpuacct:/path" for v1) is self_cgroup, with the cgroup
 * filesystem mounted at cgroup_root ("/sys/fs/cgroup"): the tightest quota of its cgroup and its
 * ancestors (v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us) rounded up to whole CPUs, at
 * most affinity and at least 1. Without a quota, or when the files are missing or unreadable,
 * returns affinity (itself at least 1). Reads files only; no other side effects. */
int hello_cpu_limit(const char *cgroup_root, const char *self_cgroup, int affinity);

#endif /* HELLO_CPULIMIT_H_ */
