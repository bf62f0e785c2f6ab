"""Start and stop the real stack (the hello master, its workers and nginx) for tests.

Each Stack gets free loopback ports, captures stdout (nginx access log) and stderr (JSON logs of
the responder, nginx errors) line by line, and tears everything down at the end.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATE = os.path.join(REPO, "nginx", "nginx.conf.template")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, binary, env=None, workers=2, prefix=()):
        self.binary = os.path.abspath(binary)
        self.prefix = list(prefix)  # a command the binary runs under, such as chrt
        self.port = free_port()
        self.metrics_port = free_port()
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PORT": str(self.port),
            "METRICS_PORT": str(self.metrics_port),
            "LISTEN_ADDRESS": "127.0.0.1",
            "NGINX_TEMPLATE": TEMPLATE,
            "WORKERS": str(workers),
            "NGINX_WORKERS": "1",
            "GRACE_SECONDS": "10",
        }
        for key in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "NGINX_BIN"):
            if key in os.environ:
                self.env[key] = os.environ[key]
        self.env.update(env or {})
        self.proc = None
        self.stdout_lines = []
        self.stderr_lines = []
        self.stdout_raw = []  # the same lines as bytes, undecoded
        self.stderr_raw = []
        self._readers = []

    # ------------------------------------------------------------------ lifecycle
    def start(self, wait=True, timeout=15):
        self.proc = subprocess.Popen(
            self.prefix + [self.binary], env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for stream, sink, raw in ((self.proc.stdout, self.stdout_lines, self.stdout_raw),
                                  (self.proc.stderr, self.stderr_lines, self.stderr_raw)):
            t = threading.Thread(target=self._pump, args=(stream, sink, raw), daemon=True)
            t.start()
            self._readers.append(t)
        if wait:
            self.wait_ready(timeout)
        return self

    @staticmethod
    def _pump(stream, sink, raw_sink):
        for raw in iter(stream.readline, b""):
            raw_sink.append(raw.rstrip(b"\n"))
            sink.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def wait_ready(self, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("stack exited with %s before it was ready:\n%s"
                                     % (self.proc.returncode, self.logs()))
            try:
                status, _, _ = self.get("/readyz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("stack not ready after %ss:\n%s" % (timeout, self.logs()))

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signals the master and waits; returns (exit code, seconds taken)."""
        if self.proc is None or self.proc.poll() is not None:
            return (self.proc.returncode if self.proc else None), 0.0
        start = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_all()
            raise AssertionError("stack did not exit within %ss:\n%s" % (timeout, self.logs()))
        for t in self._readers:
            t.join(5)
        return code, time.monotonic() - start

    def kill_all(self):
        """Last-resort cleanup: kill the master and every process it started."""
        for pid in self.descendants():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            self.kill_all()

    # ------------------------------------------------------------------ inspection
    def descendants(self):
        """PIDs of every process below the master (workers, nginx and nginx's workers)."""
        if self.proc is None:
            return []
        children = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    stat = f.read()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            for child in children.get(pid, []):
                found.append(child)
                todo.append(child)
        return found

    def processes(self, name):
        """Descendant PIDs whose command line starts with name."""
        out = []
        for pid in self.descendants():
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if cmd.startswith(name):
                out.append(pid)
        return out

    def worker_pids(self):
        return self.processes("hello-worker")

    def nginx_master_pid(self):
        pids = self.processes("nginx: master")
        return pids[0] if pids else None

    def json_lines(self, lines):
        out = []
        for line in lines:
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def run_dir(self):
        for entry in self.json_lines(self.stderr_lines):
            if entry.get("msg") == "starting":
                return entry["run_dir"]
        return None

    def logs(self):
        return "--- stderr\n%s\n--- stdout\n%s" % ("\n".join(self.stderr_lines[-40:]),
                                                   "\n".join(self.stdout_lines[-10:]))

    # ------------------------------------------------------------------ HTTP
    def get(self, path, method="GET", headers=None, port=None):
        return request("127.0.0.1", port or self.port, path, method, headers)


def request(host, port, path, method="GET", headers=None, timeout=5):
    """One request on a new connection. Returns (status, headers dict (lower-case keys), body bytes)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


def raw_request(host, port, data, timeout=5, head_only=False):
    """Sends raw bytes and returns everything the server answers until it closes or goes quiet,
    or, with head_only, until the first blank line (a server may linger after refusing a body)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while not (head_only and b"\r\n\r\n" in b"".join(chunks)):
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (socket.timeout, ConnectionResetError):
            pass  # a server may reset after answering a request it refused to read
        return b"".join(chunks)
