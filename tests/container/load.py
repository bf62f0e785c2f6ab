#!/usr/bin/env python3
"""Bounded HTTP load on one URL that tells failed requests from a server that has gone.

Each thread sends GET requests over a persistent HTTP/1.1 connection until the deadline
or until the server stops listening (a fresh connection is refused). Outcomes:

  ok       200 with the expected body
  failed   any other status or body, a timeout, or a connection that broke after the
           request was accepted (a fresh connection dropped without an answer, a
           truncated response)
  retried  a reused keep-alive connection closed by the server before any byte of the
           answer: HTTP/1.1 clients retry an idempotent request on a new connection
           then (RFC 9112 section 9.3.1), and so does this one
  refused  the listener is closed: the server has stopped accepting, the thread ends
  reset_before_answer
           a fresh connection reset before any byte of an answer. When a server closes
           its listener, connections still in the kernel's accept queue are reset this
           way, and so is a connection the server accepted and dropped: the client cannot
           tell them apart. A failure unless --allow-reset-before-answer.

With --readiness-url the generator behaves like a load balancer: it polls that URL every
100 ms and, once it stops answering 200 (a draining server), sends no new request.

Prints one JSON object with the counts; exits 1 when any request failed or none
succeeded, so it can be used on its own.
"""
import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse


class Totals:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {"ok": 0, "failed": 0, "retried": 0, "refused": 0, "reset_before_answer": 0}
        self.draining = threading.Event()
        self.errors = []

    def add(self, kind, detail=None):
        with self.lock:
            self.counts[kind] += 1
            if detail is not None and len(self.errors) < 10:
                self.errors.append(detail)


def watch_readiness(host, port, path, deadline, totals):
    """Sets totals.draining once the readiness URL answers anything but 200."""
    while time.monotonic() < deadline and not totals.draining.is_set():
        conn = http.client.HTTPConnection(host, port, timeout=1)
        try:
            conn.request("GET", path)
            if conn.getresponse().status != 200:
                totals.draining.set()
        except (OSError, http.client.HTTPException):
            totals.draining.set()
        finally:
            conn.close()
        time.sleep(0.1)


def run_thread(host, port, path, expect, deadline, timeout, totals, allow_reset):
    conn = None
    reused = False
    while time.monotonic() < deadline and not totals.draining.is_set():
        if conn is None:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
            try:
                conn.connect()
            except ConnectionRefusedError:
                totals.add("refused")
                return
            except OSError as exc:
                totals.add("failed", f"connect: {exc!r}")
                conn = None
                time.sleep(0.05)
                continue
            reused = False
        answered = False
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            answered = True
            body = resp.read().decode("utf-8", "replace")
            if resp.status == 200 and body == expect:
                totals.add("ok")
            else:
                totals.add("failed", f"status {resp.status} body {body[:60]!r}")
            if resp.will_close:
                conn.close()
                conn = None
            else:
                reused = True
        except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine) as exc:
            conn.close()
            conn = None
            if reused and not answered:
                totals.add("retried")
            elif not answered and allow_reset:
                totals.add("reset_before_answer")
            elif not answered:
                totals.add("reset_before_answer")
                totals.add("failed", f"fresh connection reset before an answer: {exc!r}")
            else:
                totals.add("failed", f"connection broke during the answer: {exc!r}")
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            conn.close()
            conn = None
            totals.add("failed", f"{exc!r}")
    if conn is not None:
        conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT/path")
    parser.add_argument("--expect", default="Hello John!", help="expected body of a 200")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--duration", type=float, default=20.0, help="upper bound in seconds")
    parser.add_argument("--timeout", type=float, default=5.0, help="per request, seconds")
    parser.add_argument("--readiness-url", help="stop sending once this stops answering 200 (like a load balancer)")
    parser.add_argument("--allow-reset-before-answer", action="store_true",
                        help="do not count a fresh connection reset before any answer as a failure")
    args = parser.parse_args()

    url = urllib.parse.urlsplit(args.url)
    if url.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("load.py only sends traffic to the loopback interface")
    path = url.path or "/"
    if url.query:
        path += "?" + url.query
    totals = Totals()
    deadline = time.monotonic() + args.duration
    threads = [
        threading.Thread(target=run_thread,
                         args=(url.hostname, url.port or 80, path, args.expect, deadline, args.timeout, totals,
                               args.allow_reset_before_answer))
        for _ in range(args.threads)
    ]
    if args.readiness_url:
        ready = urllib.parse.urlsplit(args.readiness_url)
        if ready.hostname not in ("127.0.0.1", "localhost", "::1"):
            sys.exit("load.py only sends traffic to the loopback interface")
        threads.append(threading.Thread(target=watch_readiness,
                                        args=(ready.hostname, ready.port or 80, ready.path or "/", deadline, totals)))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = dict(totals.counts, seconds=round(time.monotonic() - started, 2),
                  stopped_on_readiness=totals.draining.is_set(), errors=totals.errors)
    print(json.dumps(result), flush=True)
    return 0 if result["failed"] == 0 and result["ok"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
