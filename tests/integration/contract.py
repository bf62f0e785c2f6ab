#!/usr/bin/env python3
"""The HTTP contract of hello-cluster, checked over real HTTP.

  contract.py --binary build/hello        start nginx + responder on free loopback ports, run the
                                          HTTP contract and the process tests (logs, config errors)
  contract.py --base-url URL --metrics-url URL
                                          run the HTTP contract against a running instance
                                          (the container tests do this)
"""

import argparse
import json
import os
import re
import platform
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import Stack, raw_request, request  # noqa: E402
import runner  # noqa: E402

TARGET = {}  # host, port, metrics_port, stack (None when testing a base URL)

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "strict-transport-security": "max-age=",
}


def get(path, method="GET", headers=None):
    return request(TARGET["host"], TARGET["port"], path, method, headers)


def raw(data, head_only=False):
    return raw_request(TARGET["host"], TARGET["port"], data, head_only=head_only)


def metrics_text():
    status, headers, body = request(TARGET["host"], TARGET["metrics_port"], "/metrics")
    assert status == 200, status
    return body.decode()


def responder_total():
    """Sum of hello_requests_total but the scrapes themselves: requests that reached the responder."""
    total = 0
    for line in metrics_text().splitlines():
        if line.startswith("hello_requests_total{") and 'route="metrics"' not in line:
            total += int(line.rsplit(" ", 1)[1])
    return total


class HTTPContract(unittest.TestCase):
    """The contract table: same behaviour natively and in the container."""

    def assert_plain(self, headers):
        self.assertEqual(headers.get("content-type"), "text/plain; charset=utf-8")

    def assert_security_headers(self, headers):
        for name, fragment in SECURITY_HEADERS.items():
            self.assertIn(name, headers, name)
            self.assertIn(fragment, headers[name], name)
        self.assertNotIn("x-powered-by", headers)
        self.assertEqual(headers.get("server"), "nginx")  # no version
        self.assertRegex(headers.get("x-request-id", ""), r"^[A-Za-z0-9._:-]{8,128}$")

    # ---------------------------------------------------------------- greetings
    def test_hello_default(self):
        status, headers, body = get("/")
        self.assertEqual((status, body), (200, b"Hello John!"))
        self.assert_plain(headers)
        self.assert_security_headers(headers)
        self.assertEqual(headers.get("content-length"), "11")

    def test_hello_named(self):
        cases = {
            "/?name=Ada": "Hello Ada!",
            "/?name=Ada+Lovelace": "Hello Ada Lovelace!",
            "/?name=Ada%20Lovelace": "Hello Ada Lovelace!",
            "/?name=Jos%C3%A9": "Hello José!",
            "/?name=%E6%97%A5%E6%9C%AC": "Hello 日本!",
            "/?name=": "Hello John!",
            "/?x=1&name=Grace&y=2": "Hello Grace!",
            "/?name=" + "%E2%82%AC" * 64: "Hello " + "€" * 64 + "!",
            "/?name=%3Cscript%3E": "Hello <script>!",
        }
        for path, expected in cases.items():
            status, headers, body = get(path)
            self.assertEqual((status, body.decode()), (200, expected), path)
            self.assert_plain(headers)

    def test_bye(self):
        self.assertEqual(get("/bye")[::2], (200, b"Goodbye John!"))
        self.assertEqual(get("/bye?name=Ada")[::2], (200, b"Goodbye Ada!"))

    def test_head_same_headers_no_body(self):
        for path in ("/", "/?name=Ada", "/bye", "/healthz"):
            g_status, g_headers, g_body = get(path)
            h_status, h_headers, h_body = get(path, "HEAD")
            self.assertEqual(h_status, g_status, path)
            self.assertEqual(h_body, b"", path)
            self.assertEqual(h_headers.get("content-length"), str(len(g_body)), path)
            for name in ("content-type", "content-security-policy", "x-frame-options"):
                self.assertEqual(h_headers.get(name), g_headers.get(name), name)

    # ---------------------------------------------------------------- bad input
    def test_bad_names_are_400_with_one_line(self):
        cases = {
            "/?name=%FF": "UTF-8",
            "/?name=%C3%28": "UTF-8",
            "/?name=%ED%A0%80": "UTF-8",
            "/?name=%C0%AF": "UTF-8",
            "/?name=%00": "control",
            "/?name=a%0Ab": "control",
            "/?name=%0D%0ASet-Cookie:%20x=1": "control",
            "/?name=%1B%5B31m": "control",
            "/?name=%ZZ": "percent",
            "/?name=abc%": "percent",
            "/?name=%4": "percent",
            "/?name=" + "a" * 65: "64",
            "/bye?name=" + "%F0%9F%98%80" * 65: "64",
            "/?name=a&name=b": "once",
        }
        for path, word in cases.items():
            status, headers, body = get(path)
            self.assertEqual(status, 400, path)
            self.assert_plain(headers)
            self.assert_security_headers(headers)
            text = body.decode()
            self.assertTrue(text.endswith("\n") and text.count("\n") == 1, repr(text))
            self.assertIn(word, text, path)
            self.assertNotIn("Set-Cookie", headers)

    def test_other_methods_405(self):
        for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            status, headers, body = get("/", method)
            self.assertEqual(status, 405, method)
            self.assertEqual(headers.get("allow"), "GET, HEAD", method)
            self.assert_plain(headers)

    def test_unknown_path_404(self):
        for path in ("/nope", "/bye/x", "/index.html", "/metrics", "/.hello-error", "/HEALTHZ"):
            status, headers, body = get(path)
            self.assertEqual(status, 404, path)
            self.assert_plain(headers)
            self.assert_security_headers(headers)

    def test_oversized_requests_stop_at_nginx(self):
        before = responder_total()
        cases = [
            ("long URI", b"GET /?name=" + b"a" * 6000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", (414,)),
            ("long header", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 6000 + b"\r\n\r\n", (431, 400)),
            ("many headers", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(
                b"X-H%d: %s\r\n" % (i, b"v" * 1000) for i in range(20)) + b"\r\n", (431, 400)),
            ("big body", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"a" * 2000, (413,)),
            ("garbage request line", b"GARBAGE\r\n\r\n", (400,)),
            ("bad version", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", (505, 400)),
            ("missing Host", b"GET / HTTP/1.1\r\n\r\n", (400,)),
            ("NUL in header", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", (400,)),
            ("path escapes root", b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", (400,)),
        ]
        for label, data, expected in cases:
            answer = raw(data)
            m = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
            self.assertIsNotNone(m, "%s: no status line in %r" % (label, answer[:200]))
            self.assertIn(int(m.group(1)), expected, label)
            head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
            self.assertIn("content-type: text/plain; charset=utf-8", head, label)
            self.assertNotIn("server: nginx/", head, label)
        self.assertEqual(responder_total(), before, "an oversized request reached the responder")

    def test_nginx_own_answers_are_plain_text(self):
        """Every answer nginx makes itself, on both listeners: text/plain, one line, and a 405 with
        exactly one Allow: GET, HEAD (nginx's for TRACE, the responder's for other methods)."""
        cases = [
            (b"TRACE %s HTTP/1.1", 405),
            (b"GET %s HTTP/1.1\r\nTransfer-Encoding: gzip", 501),
            (b"GET %s HTTP/2.0", 505),
            (b"GET %s HTTP/1.1\r\nContent-Length: 2000", 413),
            (b"PUT %s HTTP/1.1", 405),
        ]
        for port, path in ((TARGET["port"], b"/"), (TARGET["metrics_port"], b"/metrics")):
            for template, status in cases:
                head = template % path
                answer = raw_request(TARGET["host"], port, head + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
                top, _, body = answer.partition(b"\r\n\r\n")
                lines = top.decode("latin-1").split("\r\n")
                label = "%s on port %d" % (head.split(b"\r\n")[0].decode(), port)
                self.assertEqual(int(lines[0].split(" ")[1]), status, label)
                fields = [line.split(":", 1) for line in lines[1:]]
                self.assertIn(["Content-Type", " text/plain; charset=utf-8"], fields, label)
                allow = [v.strip() for k, v in fields if k.lower() == "allow"]
                self.assertEqual(allow, ["GET, HEAD"] if status == 405 else [], label)
                self.assertEqual(body.count(b"\n"), 1, label)
                self.assertNotIn(b"<", body, label)

    def test_small_bodies_are_ignored_larger_ones_refused(self):
        """The body rule the README states: up to 1 KiB is read and ignored, more gets 413."""
        small = raw(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\nConnection: close\r\n\r\n" + b"a" * 1024)
        self.assertTrue(small.startswith(b"HTTP/1.1 200 "), small[:40])
        self.assertTrue(small.endswith(b"Hello John!"))
        big = raw(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\nConnection: close\r\n\r\n" + b"a" * 1025)
        self.assertTrue(big.startswith(b"HTTP/1.1 413 "), big[:40])

    def test_odd_encodings_in_path(self):
        self.assertEqual(get("/b%79e")[::2], (200, b"Goodbye John!"))  # nginx decodes and normalises
        self.assertEqual(get("/%FF")[0], 404)
        self.assertEqual(get("/?name=%F0%9F%98%80")[::2], (200, "Hello 😀!".encode()))

    # ---------------------------------------------------------------- request ids
    @staticmethod
    def request_ids(head, client_id=None):
        """(status, every X-Request-ID value) of the raw answer to a request whose head (request
        line and headers, without the blank line) is given, with the client's id if any."""
        data = head + b"\r\nConnection: close\r\n"
        if client_id is not None:
            data += b"X-Request-ID: " + client_id.encode("latin-1") + b"\r\n"
        lines = raw(data + b"\r\n", head_only=True).split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        ids = [line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("x-request-id:")]
        return int(lines[0].split(" ", 2)[1]), ids

    def test_request_id_passthrough_and_generated(self):
        sane, fresh = "req-0123456789abcdef", r"^[0-9a-f]{32}$"
        # Exactly one X-Request-ID, whether the responder answers or nginx does on its own (413:
        # nginx has read the headers, so knows the client's id; 414: it has not).
        for head, status in ((b"GET /?name=Ada HTTP/1.1\r\nHost: x", 200), (b"GET /nope HTTP/1.1\r\nHost: x", 404),
                             (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000", 413)):
            self.assertEqual(self.request_ids(head, sane), (status, [sane]), head)
            for insane in ("short", "has space in it", "x" * 200, "semi;colon;value"):
                got, ids = self.request_ids(head, insane)
                self.assertEqual(got, status, head)
                self.assertEqual(len(ids), 1, (head, ids))
                self.assertRegex(ids[0], fresh, head)
            ids = [self.request_ids(head)[1] for _ in range(10)]
            self.assertTrue(all(len(i) == 1 and re.match(fresh, i[0]) for i in ids), (head, ids))
            self.assertEqual(len({i[0] for i in ids}), 10, "ids repeat: %r" % ids)
        status, ids = self.request_ids(b"GET /?name=" + b"a" * 6000 + b" HTTP/1.1\r\nHost: x", sane)
        self.assertEqual(status, 414)
        self.assertEqual(len(ids), 1)
        self.assertRegex(ids[0], fresh)

    # ---------------------------------------------------------------- health
    def test_health_endpoints(self):
        status, headers, body = get("/healthz")
        self.assertEqual(status, 200)
        self.assert_plain(headers)
        status, headers, body = get("/readyz")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("cache-control"), "no-store")

    # ---------------------------------------------------------------- metrics
    def test_metrics_on_internal_port_only(self):
        get("/?name=Metrics")
        status, headers, body = request(TARGET["host"], TARGET["metrics_port"], "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
        text = body.decode()
        for family, kind in (("hello_requests_total", "counter"),
                             ("hello_request_duration_seconds", "histogram"),
                             ("hello_requests_in_flight", "gauge"),
                             ("process_start_time_seconds", "gauge"),
                             ("hello_build_info", "gauge")):
            self.assertIn("# TYPE %s %s\n" % (family, kind), text)
        # EXPECT_ARCH: the stack under test runs on another CPU (an emulated container).
        arch = (os.environ.get("EXPECT_ARCH")
                or {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), "unknown"))
        self.assertRegex(text, r'hello_build_info\{version="[^"]+",commit="[^"]+",arch="%s"\} 1\n' % arch)
        self.assertRegex(text, r'hello_request_duration_seconds_bucket\{route="hello",le="\+Inf"\} \d+\n')
        self.assertEqual(get("/metrics")[0], 404)
        self.assertEqual(request(TARGET["host"], TARGET["metrics_port"], "/")[0], 404)

    def test_metrics_count_requests(self):
        def count():
            m = re.search(r'hello_requests_total\{route="bye",code="200"\} (\d+)', metrics_text())
            return int(m.group(1)) if m else 0
        before = count()
        for _ in range(5):
            get("/bye")
        self.assertEqual(count() - before, 5)

    # ---------------------------------------------------------------- connections
    def test_keepalive_and_pipelining(self):
        one = b"GET /?name=P HTTP/1.1\r\nHost: x\r\n\r\n"
        answer = raw(one * 20 + b"GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(answer.count(b"HTTP/1.1 200 OK"), 21)
        self.assertEqual(answer.count(b"Hello P!"), 20)
        self.assertTrue(answer.endswith(b"Goodbye John!"))

    def test_http10(self):
        answer = raw(b"GET /?name=Old HTTP/1.0\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 OK"), answer[:40])
        self.assertTrue(answer.endswith(b"Hello Old!"))

    def test_concurrent_requests(self):
        import concurrent.futures
        paths = ["/?name=c%d" % i for i in range(300)]
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            results = list(pool.map(lambda p: get(p)[::2], paths))
        for i, (status, body) in enumerate(results):
            self.assertEqual((status, body), (200, ("Hello c%d!" % i).encode()))


class ProcessContract(unittest.TestCase):
    """What only a locally started process shows: logs, configuration errors, the health check."""

    def wait_for_access_log(self, matches):
        """The first access log record for which matches(record) holds, waiting out the log buffer."""
        stack = TARGET["stack"]
        deadline = time.monotonic() + 5  # access log is buffered for up to 1 s
        while time.monotonic() < deadline:
            for line in list(stack.stdout_lines):
                record = json.loads(line)
                if matches(record):
                    return record
            time.sleep(0.1)
        self.fail("no access log line for the request:\n" + stack.logs())

    def test_access_log_is_json_lines(self):
        stack = TARGET["stack"]
        get("/?name=LogMe", headers={"X-Request-ID": "log-test-request-1", "User-Agent": 'ua "quoted"'})
        entry = self.wait_for_access_log(lambda r: r.get("request_id") == "log-test-request-1")
        for key in ("time", "request_id", "method", "path", "status", "bytes", "duration",
                    "upstream_duration", "user_agent"):
            self.assertIn(key, entry)
        self.assertEqual(entry["method"], "GET")
        self.assertEqual(entry["path"], "/")  # no query string: names stay out of logs
        self.assertEqual(entry["status"], 200)
        self.assertEqual(entry["user_agent"], 'ua "quoted"')
        self.assertIsInstance(entry["duration"], (int, float))
        # Without a client id, the log shows the id the client got: the responder's, or nginx's
        # when nginx answered on its own (413).
        for head in (b"GET /?name=LogMe HTTP/1.1\r\nHost: x", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9999"):
            marker = "log-marker-%d" % time.monotonic_ns()
            ids = HTTPContract.request_ids(head + b"\r\nUser-Agent: " + marker.encode())[1]
            self.assertEqual(len(ids), 1)
            logged = self.wait_for_access_log(lambda r, m=marker: r.get("user_agent") == m)
            self.assertEqual(logged.get("request_id"), ids[0], head)
        for line in stack.stdout_lines:
            json.loads(line)  # every line is JSON

    def test_access_log_method_is_the_request_line_s(self):
        """error_page answers through an internal GET: the log must still say TRACE and POST."""
        for head, method, status in ((b"TRACE / HTTP/1.1", "TRACE", 405),
                                     (b"POST / HTTP/1.1\r\nContent-Length: 5000", "POST", 413)):
            marker = "method-marker-%d" % time.monotonic_ns()
            raw(head + b"\r\nHost: x\r\nUser-Agent: " + marker.encode() + b"\r\nConnection: close\r\n\r\n")
            logged = self.wait_for_access_log(lambda r, m=marker: r.get("user_agent") == m)
            self.assertEqual((logged["method"], logged["status"]), (method, status))

    def test_health_checks_stay_out_of_the_access_log(self):
        """hello --healthcheck runs every 5 s in the image: not logged unless LOG_HEALTH_CHECKS=1.
        Other clients' /healthz requests are logged as before."""
        for setting, logged in (("0", False), ("1", True)):
            with Stack(TARGET["stack"].binary, env={"LOG_HEALTH_CHECKS": setting}) as stack:
                check = subprocess.run([stack.binary, "--healthcheck"], env=stack.env, capture_output=True, timeout=10)
                self.assertEqual(check.returncode, 0, check.stderr)
                stack.get("/healthz", headers={"User-Agent": "probe"})
                stack.stop()  # flushes the access log
            agents = [json.loads(line)["user_agent"] for line in stack.stdout_lines if line.startswith("{")]
            self.assertIn("probe", agents, setting)
            self.assertEqual("hello-healthcheck" in agents, logged, "LOG_HEALTH_CHECKS=%s: %s" % (setting, agents))

    def test_access_log_client_address_from_trusted_proxies_only(self):
        """remote_addr is the connected peer, whatever X-Forwarded-For says, unless the peer is in
        TRUSTED_PROXY_CIDRS: then it is the last address in X-Forwarded-For that is not trusted."""
        cases = (("198.51.100.7, 203.0.113.9", "203.0.113.9"),  # a client's own entry is not taken
                 ("198.51.100.7, 127.0.0.5", "198.51.100.7"),   # trusted hops are skipped
                 ("2001:db8::7", "2001:db8::7"))

        def logged_addresses(stack):
            markers = []
            for forwarded, _ in cases:
                marker = "xff-marker-%d" % time.monotonic_ns()
                status, _, _ = stack.get("/", headers={"X-Forwarded-For": forwarded, "User-Agent": marker})
                self.assertEqual(status, 200)
                markers.append(marker)
            return markers

        # Not set (the shared stack): the peer, 127.0.0.1.
        for marker in logged_addresses(TARGET["stack"]):
            record = self.wait_for_access_log(lambda r, m=marker: r.get("user_agent") == m)
            self.assertEqual(record["remote_addr"], "127.0.0.1")
        with Stack(TARGET["stack"].binary, env={"TRUSTED_PROXY_CIDRS": "127.0.0.0/8"}) as stack:
            markers = logged_addresses(stack)
            stack.stop()  # flushes the access log
        by_agent = {r["user_agent"]: r for r in stack.json_lines(stack.stdout_lines)}
        for marker, (forwarded, want) in zip(markers, cases):
            self.assertIn(marker, by_agent, stack.logs())
            self.assertEqual(by_agent[marker]["remote_addr"], want, forwarded)

    def test_worker_titles_whatever_argv0(self):
        """ps shows each worker as "hello-worker N", even when argv[0] is shorter than that."""
        from stack import free_port
        env = dict(TARGET["stack"].env, PORT=str(free_port()), METRICS_PORT=str(free_port()))
        proc = subprocess.Popen(["h"], executable=TARGET["stack"].binary, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            titles = []
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len(titles) < 2:
                titles = []
                for entry in os.listdir("/proc"):
                    try:
                        with open("/proc/%s/stat" % entry) as f:
                            if int(f.read().rsplit(")", 1)[1].split()[1]) != proc.pid:
                                continue
                        with open("/proc/%s/cmdline" % entry, "rb") as f:
                            cmdline = f.read().split(b"\0")[0].decode()
                    except (OSError, ValueError):
                        continue
                    if not cmdline.startswith("nginx"):
                        titles.append(cmdline)
                time.sleep(0.05)
            self.assertEqual(sorted(titles), ["hello-worker 0", "hello-worker 1"])
        finally:
            proc.terminate()
            proc.wait(15)

    def test_nginx_mmap_threshold_fixed(self):
        """nginx starts with glibc's mmap threshold fixed (MALLOC_MMAP_THRESHOLD_=131072), so the
        blocks it frees after reading its configuration leave the heap; an operator's value wins.
        nginx writes its title over its environment, so NGINX_BIN is a wrapper that records it."""
        import tempfile
        from stack import Stack
        real_nginx = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")
        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o777)  # the stack drops to nobody when started as root
            wrapper = os.path.join(tmp, "nginx")
            with open(wrapper, "w") as f:
                f.write('#!/bin/sh\nenv > "%s/env.$$"\nexec %s "$@"\n' % (tmp, real_nginx))
            os.chmod(wrapper, 0o755)
            for given, want in ((None, "131072"), ("262144", "262144")):
                env = {"NGINX_BIN": wrapper}
                if given is not None:
                    env["MALLOC_MMAP_THRESHOLD_"] = given
                stack = Stack(TARGET["stack"].binary, env)
                try:
                    stack.start()
                finally:
                    stack.stop()
                recorded = [n for n in os.listdir(tmp) if n.startswith("env.")]
                self.assertEqual(len(recorded), 1, stack.logs())
                path = os.path.join(tmp, recorded[0])
                with open(path) as f:
                    lines = f.read().splitlines()
                os.unlink(path)
                self.assertIn("MALLOC_MMAP_THRESHOLD_=" + want, lines, "operator's value: %s" % given)

    def test_responder_logs_are_json_lines(self):
        stack = TARGET["stack"]
        records = [json.loads(line) for line in stack.stderr_lines if line.startswith("{")]
        self.assertTrue(any(r.get("msg") == "starting" for r in records))
        for r in records:
            for key in ("time", "level", "component", "pid", "msg"):
                self.assertIn(key, r)

    def test_every_log_line_is_json_and_utf8(self):
        """Long values and bytes that are not UTF-8 (in the path, in a header) at LOG_LEVEL=debug."""
        with Stack(TARGET["stack"].binary, env={"LOG_LEVEL": "debug"}) as stack:
            long_path = "/" + "a" * 944
            self.assertEqual(stack.get(long_path)[0], 404)
            for path in ("/%FF", "/%C3%A9%FF%FE", "/?name=%FF"):
                stack.get(path)
            raw_request("127.0.0.1", stack.port, b"GET /x HTTP/1.1\r\nHost: x\r\nUser-Agent: \xff\xfe\r\n"
                        b"X-Request-ID: abcdefgh\xff\r\nConnection: close\r\n\r\n")
            time.sleep(0.3)
            lines = [line for line in stack.stderr_raw if line.startswith(b"{")]
            requests = []
            for line in lines:
                record = json.loads(line.decode("utf-8"))  # strict: raises on bytes that are not UTF-8
                if record.get("msg") == "request":
                    requests.append(record)
            self.assertGreaterEqual(len(requests), 5, stack.logs())
            long = [r for r in requests if r["path"].startswith("/aaa")]
            self.assertEqual(len(long), 1, requests)
            self.assertTrue(long[0]["path"].endswith("..."))
            self.assertEqual(long[0]["status"], 404)  # the fields after the long one are whole
            self.assertIn("/\ufffd", [r["path"] for r in requests])
        # nginx's access log (flushed at exit): escape=json passes bytes >= 0x80 as they came.
        access = [json.loads(line.decode("utf-8")) for line in stack.stdout_raw if line.startswith(b"{")]
        self.assertGreaterEqual(len(access), 6, stack.logs())
        self.assertIn("\ufffd\ufffd", [a["user_agent"] for a in access])
        self.assertIn(long_path, [a["path"] for a in access])

    def test_stdout_to_a_file_works_when_started_as_root(self):
        """make run > run.log as root: nginx, running as nobody, cannot open a root-owned file as
        /dev/stdout; its output reaches the file through the master (as any user)."""
        stack = TARGET["stack"]
        from stack import free_port
        env = dict(stack.env, PORT=str(free_port()), METRICS_PORT=str(free_port()))
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "run.log")
            with open(path, "wb") as out:
                os.fchmod(out.fileno(), 0o600)
                proc = subprocess.Popen([stack.binary], env=env, stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=subprocess.PIPE)
            try:
                deadline = time.monotonic() + 10
                status = None
                while time.monotonic() < deadline and proc.poll() is None and status != 200:
                    try:
                        status = request("127.0.0.1", int(env["PORT"]), "/?name=File")[0]
                    except OSError:
                        time.sleep(0.05)
                self.assertEqual(status, 200, proc.stderr.read1(65536) if proc.poll() is not None else "")
                proc.terminate()
                self.assertEqual(proc.wait(15), 0)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stderr.close()
            with open(path, "rb") as f:
                lines = [json.loads(line) for line in f.read().splitlines() if line.startswith(b"{")]
            self.assertIn("/", [entry["path"] for entry in lines])

    @staticmethod
    def sched_policies(stack):
        """Scheduling policy of each worker, from field 41 of /proc/PID/stat (0 other, 3 batch)."""
        policies = []
        for pid in stack.worker_pids():
            with open("/proc/%d/stat" % pid) as f:
                policies.append(int(f.read().rsplit(")", 1)[1].split()[38]))
        return policies

    def test_worker_sched_policy(self):
        self.assertEqual(set(self.sched_policies(TARGET["stack"])), {0}, "default WORKER_SCHED_POLICY=other")
        from stack import Stack
        with Stack(TARGET["stack"].binary, env={"WORKER_SCHED_POLICY": "batch"}) as stack:
            self.assertEqual(self.sched_policies(stack), [3, 3])
            self.assertEqual(stack.get("/")[0], 200)
            self.assertFalse([line for line in stack.stderr_lines if "refused" in line])
        # Started as SCHED_IDLE, an unprivileged worker may not leave it: a warning, and it serves.
        with Stack(TARGET["stack"].binary, env={"WORKER_SCHED_POLICY": "batch"},
                   prefix=["chrt", "--idle", "0"]) as stack:
            self.assertEqual(stack.get("/")[0], 200)
            self.assertEqual(self.sched_policies(stack), [5, 5])
            refusals = [json.loads(line) for line in stack.stderr_lines if "batch refused" in line]
            self.assertEqual(len(refusals), 2, stack.logs())
            self.assertEqual(refusals[0]["level"], "warn")

    def test_healthcheck_mode(self):
        stack = TARGET["stack"]
        env = dict(stack.env)
        ok = subprocess.run([stack.binary, "--healthcheck"], env=env, capture_output=True, timeout=10)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        from stack import free_port
        env["PORT"] = str(free_port())
        bad = subprocess.run([stack.binary, "--healthcheck"], env=env, capture_output=True, timeout=10)
        self.assertEqual(bad.returncode, 1)
        self.assertIn(b"healthz", bad.stderr)

    def test_version_and_usage(self):
        binary = TARGET["stack"].binary
        out = subprocess.run([binary, "--version"], capture_output=True, timeout=5)
        self.assertEqual(out.returncode, 0)
        self.assertTrue(out.stdout.startswith(b"hello "))
        bad = subprocess.run([binary, "--bogus"], capture_output=True, timeout=5)
        self.assertEqual(bad.returncode, 2)
        self.assertIn(b"usage", bad.stderr)

    def start_expecting_failure(self, env, word, code=2):
        binary = TARGET["stack"].binary
        base = dict(TARGET["stack"].env)
        base.update(env)
        started = time.monotonic()
        out = subprocess.run([binary], env=base, capture_output=True, timeout=15)
        self.assertLess(time.monotonic() - started, 10, "start-up failure took too long")
        self.assertEqual(out.returncode, code, out.stderr)
        self.assertIn(word.encode(), out.stderr)
        return out

    def test_invalid_configuration_names_the_variable(self):
        for name, value in (("PORT", "http"), ("PORT", "70000"), ("METRICS_PORT", "0"),
                            ("WORKERS", "0"), ("WORKERS", "lots"), ("GRACE_SECONDS", "-5"),
                            ("LOG_LEVEL", "loud"), ("LISTEN_ADDRESS", "example.com"),
                            ("RUNTIME_DIR", "tmp"), ("NGINX_BIN", "nginx"),
                            ("WORKER_SCHED_POLICY", "realtime")):
            out = self.start_expecting_failure({name: value}, name)
            line = out.stderr.decode().strip().splitlines()[-1]
            self.assertEqual(json.loads(line)["level"], "error")

    def test_runtime_dir_unsafe_for_nginx_conf_is_refused(self):
        """RUNTIME_DIR goes into nginx.conf unquoted: existing, writable directories whose names
        would split a directive or add one are refused before anything starts."""
        for name in ("with space", "semi;error_log x", "brace{"):
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, name)
                os.mkdir(path)
                os.chmod(d, 0o755)
                os.chmod(path, 0o777)  # writable by the user the stack runs as
                out = self.start_expecting_failure({"RUNTIME_DIR": path}, "RUNTIME_DIR", code=2)
                self.assertIn(b"nginx.conf", out.stderr)
                self.assertEqual(os.listdir(path), [], "something was started in it")

    def test_trusted_proxy_cidrs_that_are_not_cidrs_are_refused(self):
        """TRUSTED_PROXY_CIDRS goes into nginx.conf: anything but a list of CIDRs stops start-up."""
        for value in ("10.0.0.0/8; evil", "10.0.0.0", "10.0.0.0/33", "fd00::/129", "vpc", "10.0.0.0/8,"):
            with tempfile.TemporaryDirectory() as d:
                os.chmod(d, 0o777)  # writable by the user the stack runs as
                self.start_expecting_failure({"TRUSTED_PROXY_CIDRS": value, "RUNTIME_DIR": d},
                                             "TRUSTED_PROXY_CIDRS", code=2)
                self.assertEqual(os.listdir(d), [], "something was started for %r" % value)

    def test_missing_template_and_nginx(self):
        self.start_expecting_failure({"NGINX_TEMPLATE": "/nonexistent/nginx.conf.template"}, "NGINX_TEMPLATE")
        from stack import free_port
        self.start_expecting_failure({"NGINX_BIN": "/nonexistent/nginx", "PORT": str(free_port()),
                                      "METRICS_PORT": str(free_port())}, "NGINX_BIN", code=1)

    def test_unwritable_runtime_dir_fails_fast(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "ro")
            os.mkdir(path, 0o555)
            # Root ignores permission bits; the binary runs as nobody when root, which does not.
            self.start_expecting_failure({"RUNTIME_DIR": path}, "RUNTIME_DIR", code=2)
        self.start_expecting_failure({"RUNTIME_DIR": "/proc"}, "RUNTIME_DIR", code=2)

    def test_port_in_use_fails(self):
        stack = TARGET["stack"]
        from stack import free_port
        self.start_expecting_failure({"PORT": str(stack.port), "METRICS_PORT": str(free_port())},
                                     "nginx exited", code=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", help="start this hello binary on free loopback ports")
    parser.add_argument("--base-url", help="test a running instance, e.g. http://127.0.0.1:8080")
    parser.add_argument("--metrics-url", help="its metrics listener, e.g. http://127.0.0.1:9090")
    parser.add_argument("--sanitized", action="store_true",
                        help="the binary is built with sanitizers: fail on any sanitizer report")
    args = parser.parse_args()
    if bool(args.binary) == bool(args.base_url):
        parser.error("give either --binary or --base-url (with --metrics-url)")

    classes = [HTTPContract]
    stack = None
    if args.binary:
        stack = Stack(args.binary).start()
        TARGET.update(host="127.0.0.1", port=stack.port, metrics_port=stack.metrics_port, stack=stack)
        classes.append(ProcessContract)
    else:
        if not args.metrics_url:
            parser.error("--base-url needs --metrics-url")
        base, metrics = urllib.parse.urlsplit(args.base_url), urllib.parse.urlsplit(args.metrics_url)
        TARGET.update(host=base.hostname, port=base.port or 80, metrics_port=metrics.port or 80, stack=None)
        print("HTTP contract against %s (metrics %s)" % (args.base_url, args.metrics_url))

    ok = True
    try:
        ok = runner.run(classes)
    finally:
        if stack is not None:
            code, seconds = stack.stop()
            stack.kill_all()
            problems = []
            if code != 0:
                problems.append("stack exited %s after SIGTERM" % code)
            if args.sanitized:
                reports = [line for line in stack.stderr_lines
                           if "runtime error" in line or "AddressSanitizer" in line or "LeakSanitizer" in line]
                if reports:
                    problems.append("sanitizer reports:\n" + "\n".join(reports[:20]))
            run_dir = stack.run_dir()
            if run_dir and os.path.exists(run_dir):
                problems.append("runtime directory %s left behind" % run_dir)
            for p in problems:
                print("FAIL: " + p)
            ok = ok and not problems
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
