#!/usr/bin/env python3
"""The worker counts follow the CPU quota of the cgroup the stack runs in.

Creates a child cgroup with a CPU quota (cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us, or v2
cpu.max), starts the binary inside it without WORKERS and NGINX_WORKERS, and counts the responder
workers and nginx workers that really run. Needs a writable cgroup (root); where none can be
written it says why and checks nothing. Usage: cgroup_workers.py --binary build/hello"""

import argparse
import math
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import Stack  # noqa: E402
import runner  # noqa: E402

BINARY = None
HIERARCHY = None  # (version, directory under which test cgroups are made)


def own_cgroup_dirs():
    """(version, directory of this process's own cgroup) for each mounted hierarchy with the cpu
    controller. man 7 cgroups: /proc/pid/cgroup lines are "hierarchy-ID:controller-list:cgroup-path",
    the ID being 0 for cgroup v2; /proc/self/mountinfo says where each hierarchy is mounted and
    which of its directories the mount shows (field 4, "root")."""
    paths = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            hid, controllers, path = line.rstrip("\n").split(":", 2)
            if hid == "0" and controllers == "":
                paths["v2"] = path
            elif "cpu" in controllers.split(","):
                paths["v1"] = path
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            fields, (fstype, _, options) = left.split(), right.split()[:3]
            root, mount = fields[3], fields[4]
            if fstype == "cgroup" and "cpu" in options.split(",") and "v1" in paths:
                version, path = "v1", paths["v1"]
            elif fstype == "cgroup2" and "v2" in paths:
                version, path = "v2", paths["v2"]
            else:
                continue
            rel = os.path.relpath(path, root) if path.startswith(root) else "."
            found.append((version, os.path.normpath(os.path.join(mount, rel))))
    return found


def writable_hierarchy():
    """(version, parent directory) where a child cgroup with a CPU quota can be made, or
    (None, reason)."""
    reasons = []
    for version, parent in own_cgroup_dirs():
        if version == "v2":
            try:
                with open(os.path.join(parent, "cgroup.subtree_control")) as f:
                    if "cpu" not in f.read().split():
                        reasons.append("%s: the cpu controller is not enabled for children" % parent)
                        continue
            except OSError as e:
                reasons.append("%s: %s" % (parent, e))
                continue
        probe = os.path.join(parent, "hello-probe-%d" % os.getpid())
        try:
            os.mkdir(probe)
            os.rmdir(probe)
            return version, parent
        except OSError as e:
            reasons.append("%s: %s" % (parent, e))
    return None, "; ".join(reasons) or "no cgroup hierarchy with the cpu controller is mounted"


class QuotaCgroup:
    """A child cgroup limited to quota/period of CPU time, removed on exit."""

    def __init__(self, quota, period=100000):
        version, parent = HIERARCHY
        self.version = version
        self.path = os.path.join(parent, "hello-test-%d-%d" % (os.getpid(), quota))
        self.quota, self.period = quota, period

    def __enter__(self):
        os.mkdir(self.path)
        if self.version == "v1":
            self._write("cpu.cfs_period_us", str(self.period))
            self._write("cpu.cfs_quota_us", str(self.quota))
        else:
            self._write("cpu.max", "%d %d" % (self.quota, self.period))
        return self

    def _write(self, name, value):
        with open(os.path.join(self.path, name), "w") as f:
            f.write(value)

    def prefix(self):
        """A command that moves itself into the cgroup, then runs the binary in its place."""
        procs = os.path.join(self.path, "cgroup.procs")
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', procs]

    def __exit__(self, *exc):
        deadline = time.monotonic() + 10
        while True:
            try:
                os.rmdir(self.path)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # the stack's processes are still leaving


def start_in(cgroup, env=None):
    stack = Stack(BINARY, env=env, prefix=cgroup.prefix())
    for name in ("WORKERS", "NGINX_WORKERS"):
        if name not in (env or {}):
            del stack.env[name]
    return stack


def counts(stack):
    """(responder workers, nginx workers) running, once nginx has started all it was told to."""
    deadline = time.monotonic() + 5
    last = None
    while time.monotonic() < deadline:
        now = (len(stack.worker_pids()), len(stack.processes("nginx: worker")))
        if now == last and now[1] > 0:
            return now
        last = now
        time.sleep(0.2)
    return last


class WorkersFollowTheQuota(unittest.TestCase):
    affinity = len(os.sched_getaffinity(0))

    def expect(self, quota, period=100000):
        return max(1, min(self.affinity, math.ceil(quota / period)))

    def check_quota(self, quota):
        with QuotaCgroup(quota) as cgroup:
            with start_in(cgroup) as stack:
                with open("/proc/%d/cgroup" % stack.proc.pid) as f:
                    self.assertIn(os.path.basename(cgroup.path), f.read())
                workers, nginx_workers = counts(stack)
                want = self.expect(quota)
                print("  quota %d/100000 (%s), %d CPUs in the affinity mask: %d workers, %d nginx workers"
                      % (quota, cgroup.version, self.affinity, workers, nginx_workers))
                self.assertEqual(workers, want, stack.logs())
                self.assertEqual(nginx_workers, want, stack.logs())
                starting = [e for e in stack.json_lines(stack.stderr_lines) if e.get("msg") == "starting"]
                self.assertEqual((starting[0]["workers"], starting[0]["nginx_workers"]), (want, want))
                self.assertEqual(stack.get("/")[0], 200)

    def test_half_a_cpu_runs_one_of_each(self):
        self.check_quota(50000)

    def test_two_cpus_run_two_of_each(self):
        self.check_quota(200000)

    def test_one_and_a_half_cpus_round_up(self):
        self.check_quota(150000)

    def test_explicit_settings_win(self):
        with QuotaCgroup(50000) as cgroup:
            with start_in(cgroup, env={"WORKERS": "3", "NGINX_WORKERS": "2"}) as stack:
                self.assertEqual(counts(stack), (3, 2), stack.logs())


def main():
    global BINARY, HIERARCHY
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    args = parser.parse_args()
    BINARY = args.binary
    version, where = writable_hierarchy()
    if version is None:
        print("cgroup worker tests NOT RUN: no cgroup can be written here (%s)" % where)
        sys.exit(0)
    HIERARCHY = (version, where)
    print("cgroup %s, test cgroups under %s" % (version, where))
    sys.exit(0 if runner.run([WorkersFollowTheQuota]) else 1)


if __name__ == "__main__":
    main()
