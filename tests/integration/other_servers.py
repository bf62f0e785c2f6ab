#!/usr/bin/env python3
"""The responder behind web servers other than nginx: lighttpd (path in SCRIPT_NAME) and h2o (path
in PATH_INFO), both passing request headers as HTTP_*. Runs the part of the HTTP contract that does
not depend on nginx's own limits and headers, through each server started on a free loopback port
and connected to the stack's first worker socket. Usage: other_servers.py --binary build/hello"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import Stack, free_port, request  # noqa: E402
import runner  # noqa: E402

BINARY = None


def lighttpd(workdir, port, socket_path):
    conf = os.path.join(workdir, "lighttpd.conf")
    with open(conf, "w") as f:
        f.write('server.document-root = "%s"\n' % workdir
                + 'server.bind = "127.0.0.1"\nserver.port = %d\n' % port
                + 'server.modules = ("mod_fastcgi")\n'
                + 'server.errorlog = "%s/lighttpd.err"\n' % workdir
                + 'fastcgi.server = ("/" => (("socket" => "%s", "check-local" => "disable")))\n' % socket_path)
    return [shutil.which("lighttpd") or "/usr/sbin/lighttpd", "-D", "-f", conf]


def h2o(workdir, port, socket_path):
    conf = os.path.join(workdir, "h2o.conf")
    with open(conf, "w") as f:
        # h2o refuses to run as root without a user to switch to; the stack's sockets belong to
        # nobody when it was started as root.
        if os.geteuid() == 0:
            f.write("user: nobody\n")
        f.write("listen:\n  host: 127.0.0.1\n  port: %d\n" % port
                + "error-log: %s/h2o.err\n" % workdir
                + "hosts:\n  default:\n    paths:\n      /:\n        fastcgi.connect:\n"
                + "          port: %s\n          type: unix\n" % socket_path)
    return [shutil.which("h2o") or "/usr/bin/h2o", "-c", conf]


class ThroughServer:
    """Starts the stack and one other web server in front of its first worker."""

    def __init__(self, make_command):
        self.make_command = make_command

    def __enter__(self):
        self.stack = Stack(BINARY, workers=1).start()
        self.workdir = tempfile.mkdtemp()
        os.chmod(self.workdir, 0o777)  # h2o writes its log there as nobody
        self.port = free_port()
        socket_path = os.path.join(self.stack.run_dir(), "worker-0.sock")
        self.proc = subprocess.Popen(self.make_command(self.workdir, self.port, socket_path),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("the server exited: %s" % self.proc.stderr.read().decode(errors="replace"))
            try:
                if request("127.0.0.1", self.port, "/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("the server never answered /healthz")

    def get(self, path, method="GET", headers=None):
        return request("127.0.0.1", self.port, path, method, headers)

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stderr.close()
        code, _ = self.stack.stop()
        self.stack.kill_all()
        shutil.rmtree(self.workdir, ignore_errors=True)
        assert code == 0, "stack exited %s" % code


class ContractSubset:
    server = None  # a command maker, set by the subclasses

    @classmethod
    def setUpClass(cls):
        cls.through = ThroughServer(cls.server).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.through.__exit__(None, None, None)

    def test_hello_and_bye(self):
        for path, body in (("/", b"Hello John!"), ("/?name=Ada", b"Hello Ada!"),
                           ("/?name=J%C3%BCrgen", "Hello Jürgen!".encode()),
                           ("/bye", b"Goodbye John!"), ("/bye?name=Ada", b"Goodbye Ada!")):
            status, headers, got = self.through.get(path)
            self.assertEqual((status, got), (200, body), path)
            self.assertEqual(headers.get("content-type"), "text/plain; charset=utf-8", path)

    def test_head(self):
        status, headers, body = self.through.get("/", "HEAD")
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(headers.get("content-length"), "11")

    def test_bad_names_400(self):
        for path in ("/?name=%FF", "/?name=a&name=b", "/?name=" + "a" * 65):
            self.assertEqual(self.through.get(path)[0], 400, path)

    def test_other_methods_405(self):
        status, headers, _ = self.through.get("/", "DELETE")
        self.assertEqual(status, 405)
        self.assertEqual(headers.get("allow"), "GET, HEAD")

    def test_unknown_paths_404(self):
        for path in ("/nope", "/bye/x", "/metrics"):  # /metrics: only nginx's internal listener
            self.assertEqual(self.through.get(path)[0], 404, path)

    def test_health(self):
        self.assertEqual(self.through.get("/healthz")[0], 200)
        self.assertEqual(self.through.get("/readyz")[0], 200)

    def test_request_ids(self):
        _, headers, _ = self.through.get("/", headers={"X-Request-ID": "req-0123456789abcdef"})
        self.assertEqual(headers.get("x-request-id"), "req-0123456789abcdef")
        _, headers, _ = self.through.get("/", headers={"X-Request-ID": "bad id with spaces"})
        self.assertRegex(headers.get("x-request-id", ""), r"^[0-9a-f]{32}$")
        _, headers, _ = self.through.get("/")
        self.assertRegex(headers.get("x-request-id", ""), r"^[0-9a-f]{32}$")


class ThroughLighttpd(ContractSubset, unittest.TestCase):
    server = staticmethod(lighttpd)


class ThroughH2o(ContractSubset, unittest.TestCase):
    server = staticmethod(h2o)


def main():
    global BINARY
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    BINARY = os.path.abspath(parser.parse_args().binary)
    missing = [tool for tool in ("lighttpd", "h2o") if shutil.which(tool) is None and not os.path.exists(
        {"lighttpd": "/usr/sbin/lighttpd", "h2o": "/usr/bin/h2o"}[tool])]
    if missing:
        print("other_servers: %s missing (make deps installs them)" % " and ".join(missing))
        sys.exit(1)
    sys.exit(0 if runner.run([ThroughLighttpd, ThroughH2o]) else 1)


if __name__ == "__main__":
    main()
