#!/usr/bin/env python3
"""Fault tests: a worker killed under load, SIGTERM while requests are in flight, nginx dying,
and a broken responder failing its health check. Usage: faults.py --binary build/hello"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from httpload import Load  # noqa: E402
from stack import Stack, request  # noqa: E402
import runner  # noqa: E402

BINARY = None


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def alive(pid):
    """True while pid runs (a zombie waiting to be reaped counts as ended)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def metric(stack, name):
    _, _, body = request("127.0.0.1", stack.metrics_port, "/metrics")
    m = re.search(r"^%s (\d+)" % re.escape(name), body.decode(), re.M)
    return int(m.group(1)) if m else None


class Faults(unittest.TestCase):
    def test_worker_kill9_under_load_loses_nothing(self):
        with Stack(BINARY, workers=2) as stack:
            load = Load(stack.port, threads=8).start()
            time.sleep(0.7)
            for round_ in range(2):
                victim = stack.worker_pids()[0]
                os.kill(victim, signal.SIGKILL)
                wait_for(lambda: len(stack.worker_pids()) == 2 and victim not in stack.worker_pids(), 5,
                         "worker %d to be replaced" % victim)
                time.sleep(0.5)
            load.stop()
            print("  load during two kill -9: " + load.summary())
            self.assertEqual(load.failed, [], load.summary())
            self.assertEqual(load.refused, 0, load.summary())
            self.assertGreater(load.ok, 500, load.summary())
            self.assertEqual(metric(stack, "hello_worker_restarts_total"), 2)
            self.assertEqual(metric(stack, "hello_requests_in_flight"), 1)  # the scrape itself

    def test_sigterm_finishes_in_flight_requests(self):
        stack = Stack(BINARY, workers=2, env={"GRACE_SECONDS": "10"}).start()
        try:
            load = Load(stack.port, threads=16).start()
            time.sleep(1.0)
            ok_before = load.ok
            code, seconds = stack.stop(signal.SIGTERM, timeout=15)
            load.stop()
            print("  load across SIGTERM: %s; exit %s after %.2fs" % (load.summary(), code, seconds))
            self.assertEqual(code, 0, stack.logs())
            self.assertLess(seconds, 10)
            self.assertGreater(ok_before, 100)
            self.assertEqual(load.failed, [], load.summary())  # no 5xx, no answer cut short
            self.assertEqual(stack.descendants(), [])
            self.assertFalse(os.path.exists(stack.run_dir()), "runtime directory left behind")
        finally:
            stack.kill_all()

    def test_request_started_before_sigterm_is_answered(self):
        stack = Stack(BINARY, workers=1).start()
        try:
            s = socket.create_connection(("127.0.0.1", stack.port), timeout=10)
            s.sendall(b"GET /?name=Late HTTP/1.1\r\nHost: x\r\n")  # headers not finished yet
            time.sleep(0.2)
            stack.proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            s.sendall(b"Connection: close\r\n\r\n")
            answer = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
            s.close()
            self.assertTrue(answer.startswith(b"HTTP/1.1 200 OK"), answer[:80])
            self.assertTrue(answer.endswith(b"Hello Late!"))
            self.assertEqual(stack.proc.wait(15), 0)
        finally:
            stack.kill_all()

    def test_shutdown_delay_serves_while_not_ready(self):
        stack = Stack(BINARY, workers=2, env={"SHUTDOWN_DELAY_SECONDS": "2", "GRACE_SECONDS": "10"}).start()
        try:
            load = Load(stack.port, threads=4).start()
            time.sleep(0.3)
            stack.proc.send_signal(signal.SIGTERM)
            wait_for(lambda: stack.get("/readyz")[0] == 503, 1, "/readyz to turn 503")
            self.assertEqual(stack.get("/healthz")[0], 200)  # still alive
            time.sleep(1.0)
            load.stop()  # a load balancer would have stopped sending by now
            print("  load during the shutdown delay: " + load.summary())
            self.assertEqual((load.failed, load.refused, load.retried), ([], 0, 0), load.summary())
            self.assertEqual(metric(stack, "hello_draining"), 1)
            started = time.monotonic()
            self.assertEqual(stack.proc.wait(15), 0)
            self.assertLess(time.monotonic() - started, 8)
        finally:
            stack.kill_all()

    def test_nginx_death_stops_the_master_nonzero(self):
        stack = Stack(BINARY, workers=2).start()
        try:
            everything = stack.descendants()
            os.kill(stack.nginx_master_pid(), signal.SIGKILL)
            code = stack.proc.wait(15)
            self.assertNotEqual(code, 0)
            self.assertTrue(any("nginx exited unexpectedly" in line for line in stack.stderr_lines), stack.logs())
            # Nothing survives, not even nginx's workers re-parented away from the master.
            wait_for(lambda: not [p for p in everything if alive(p)], 5, "every process of the stack to end")
            with socket.socket() as probe:
                self.assertNotEqual(probe.connect_ex(("127.0.0.1", stack.port)), 0, "the port is still served")
        finally:
            stack.kill_all()

    def test_broken_responder_fails_health(self):
        stack = Stack(BINARY, workers=2, env={"HELLO_TEST_DISABLE_RESTART": "1"}).start()
        try:
            check = subprocess.run([BINARY, "--healthcheck"], env=stack.env, capture_output=True, timeout=10)
            self.assertEqual(check.returncode, 0, check.stderr)
            for pid in stack.worker_pids():
                os.kill(pid, signal.SIGKILL)
            wait_for(lambda: stack.worker_pids() == [], 5, "workers to die")
            self.assertNotEqual(stack.get("/healthz")[0], 200)
            check = subprocess.run([BINARY, "--healthcheck"], env=stack.env, capture_output=True, timeout=10)
            self.assertEqual(check.returncode, 1)
            self.assertIsNone(stack.proc.poll(), "the master stays up; the orchestrator decides")
        finally:
            stack.stop()
            stack.kill_all()

    def test_crashing_worker_restarts_with_backoff(self):
        with Stack(BINARY, workers=1) as stack:
            times = []
            for _ in range(4):
                victim = wait_for(lambda: stack.worker_pids(), 10, "a worker")[0]
                os.kill(victim, signal.SIGKILL)
                t0 = time.monotonic()
                wait_for(lambda: stack.worker_pids() and victim not in stack.worker_pids(), 10, "a restart")
                times.append(time.monotonic() - t0)
            print("  restart delays: " + ", ".join("%.2fs" % t for t in times))
            self.assertGreater(times[-1], times[0])       # backoff grows
            self.assertGreaterEqual(times[-1], 0.7)       # 100, 200, 400, 800 ms
            self.assertEqual(stack.get("/")[0], 200)


def main():
    global BINARY
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    BINARY = os.path.abspath(parser.parse_args().binary)
    sys.exit(0 if runner.run([Faults]) else 1)


if __name__ == "__main__":
    main()
