#!/usr/bin/env python3
"""Hostile and unusual FastCGI peers on the workers' own sockets: stalled and silent connections,
FCGI_GET_VALUES (libfcgi's 64-byte answer buffer), huge name-value lengths (libfcgi's size
arithmetic), other roles and management types, and SIGTERM with stalled connections open.
Usage: fastcgi_peers.py --binary build/hello"""

import argparse
import os
import signal
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import Stack  # noqa: E402
import runner  # noqa: E402

BINARY = None

# FastCGI Specification 1.0, section 8.
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT = 1, 2, 3, 4, 5, 6
GET_VALUES, GET_VALUES_RESULT, UNKNOWN_TYPE = 9, 10, 11
RESPONDER, AUTHORIZER = 1, 2
UNKNOWN_ROLE = 3

# The connection from the issue: BEGIN_REQUEST, then a PARAMS record whose name and value claim
# 0x7FFFFFFE bytes each.
HUGE_LENGTHS = bytes.fromhex("0101000100080000000101000000000001040001000a0000fffffffefffffffe4142")


def record(rtype, rid, content=b"", padding=0):
    return struct.pack(">BBHHBB", 1, rtype, rid, len(content), padding, 0) + content + b"\0" * padding


def encode_length(n):
    return bytes([n]) if n < 0x80 else struct.pack(">I", n | 0x80000000)


def pairs(items):
    out = b""
    for name, value in items:
        out += encode_length(len(name)) + encode_length(len(value)) + name + value
    return out


def request(params=None, rid=1, keep=True, role=RESPONDER):
    params = params or [(b"REQUEST_METHOD", b"GET"), (b"DOCUMENT_URI", b"/"), (b"QUERY_STRING", b"name=Peer")]
    return (record(BEGIN_REQUEST, rid, struct.pack(">HB5x", role, 1 if keep else 0))
            + record(PARAMS, rid, pairs(params)) + record(PARAMS, rid)
            + record(STDIN, rid))


def read_records(sock, until=END_REQUEST, timeout=5):
    """Records (type, id, content) until one of type until arrives or the peer closes."""
    sock.settimeout(timeout)
    buf, out = b"", []
    while True:
        while len(buf) >= 8:
            _, rtype, rid, clen, plen, _ = struct.unpack(">BBHHBB", buf[:8])
            if len(buf) < 8 + clen + plen:
                break
            out.append((rtype, rid, buf[8:8 + clen]))
            buf = buf[8 + clen + plen:]
            if rtype == until:
                return out
        chunk = sock.recv(65536)
        if not chunk:
            return out
        buf += chunk


def closed_within(sock, seconds):
    """Seconds until the peer closed sock (EOF or reset), or None when it stayed open."""
    start = time.monotonic()
    sock.settimeout(seconds)
    try:
        while True:
            if not sock.recv(4096):
                return time.monotonic() - start
    except socket.timeout:
        return None
    except ConnectionResetError:
        return time.monotonic() - start


class Peers(unittest.TestCase):
    def connect(self, stack, worker=0):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(os.path.join(stack.run_dir(), "worker-%d.sock" % worker))
        self.addCleanup(s.close)
        return s

    def assert_worker_survived(self, stack, pids):
        time.sleep(0.2)
        self.assertEqual(stack.worker_pids(), pids, stack.logs())
        self.assertFalse([line for line in stack.stderr_lines if "worker died" in line], stack.logs())
        self.assertEqual(stack.get("/")[0], 200)

    def test_a_whole_request_is_answered(self):
        with Stack(BINARY, workers=1) as stack:
            s = self.connect(stack)
            for _ in range(2):  # twice on one kept-alive connection
                s.sendall(request())
                recs = read_records(s)
                body = b"".join(c for t, _, c in recs if t == STDOUT)
                self.assertIn(b"Hello Peer!", body)
                self.assertEqual(recs[-1][0], END_REQUEST)

    def test_stalled_connection_delays_no_one(self):
        with Stack(BINARY, workers=1, env={"FASTCGI_DEADLINE_MS": "3000"}) as stack:
            stalled = self.connect(stack)
            stalled.sendall(request()[:4])   # four bytes of a record header, then nothing
            silent = self.connect(stack)     # nothing at all
            time.sleep(0.1)
            start = time.monotonic()
            statuses = [stack.get("/?name=x%d" % i)[0] for i in range(12)]
            took = time.monotonic() - start
            print("  12 requests beside a stalled and a silent connection: %.3fs" % took)
            self.assertEqual(statuses, [200] * 12)
            # Answered while both connections were still open: nothing waited for their deadline.
            self.assertIsNone(closed_within(stalled, 0.01), "the deadline passed before the requests ended")
            self.assertIsNone(closed_within(silent, 0.01), "the deadline passed before the requests ended")
            self.assertLess(took, 2.5)

    def test_silent_and_slow_connections_close_at_the_deadline(self):
        with Stack(BINARY, workers=1, env={"FASTCGI_DEADLINE_MS": "500"}) as stack:
            silent = self.connect(stack)
            took = closed_within(silent, 5)
            self.assertIsNotNone(took, "a silent connection stayed open")
            self.assertGreater(took, 0.3)
            self.assertLess(took, 2.0)
            # One byte every 100 ms: trickling does not extend the deadline.
            slow = self.connect(stack)
            start = time.monotonic()
            data = request()
            try:
                for i in range(len(data) - 1):
                    slow.sendall(data[i:i + 1])
                    time.sleep(0.1)
                    if time.monotonic() - start > 5:
                        break
            except (BrokenPipeError, ConnectionResetError):
                pass
            took = closed_within(slow, 5) is not None and time.monotonic() - start
            self.assertTrue(took, "a trickling connection stayed open")
            self.assertLess(took, 2.5)
            self.assertEqual(stack.get("/")[0], 200)

    def test_get_values_naming_one_variable_four_times(self):
        with Stack(BINARY, workers=1) as stack:
            pids = stack.worker_pids()
            s = self.connect(stack)
            s.sendall(record(GET_VALUES, 0, pairs([(b"FCGI_MPXS_CONNS", b"")] * 4)))
            recs = read_records(s, until=GET_VALUES_RESULT)
            self.assertEqual([r[:2] for r in recs], [(GET_VALUES_RESULT, 0)], stack.logs())
            self.assertEqual(recs[0][2], pairs([(b"FCGI_MPXS_CONNS", b"0")]))
            s.sendall(request())  # the connection goes on serving
            self.assertIn(b"Hello Peer!", b"".join(c for t, _, c in read_records(s) if t == STDOUT))
            # Query and request in one write: libfcgi answered the query into its 64-byte stack
            # buffer while reading the request ("stack smashing detected", the worker aborted).
            s = self.connect(stack)
            s.sendall(record(GET_VALUES, 0, pairs([(b"FCGI_MPXS_CONNS", b"")] * 4)) + request())
            recs = read_records(s)
            self.assertEqual([t for t, _, _ in recs], [GET_VALUES_RESULT, STDOUT, STDOUT, END_REQUEST])
            self.assert_worker_survived(stack, pids)

    def test_get_values_answers_what_it_knows(self):
        with Stack(BINARY, workers=1) as stack:
            s = self.connect(stack)
            s.sendall(record(GET_VALUES, 0, pairs([(b"FCGI_MAX_CONNS", b""), (b"X_UNKNOWN", b""),
                                                   (b"FCGI_MPXS_CONNS", b"")])))
            recs = read_records(s, until=GET_VALUES_RESULT)
            self.assertEqual(recs[0][0], GET_VALUES_RESULT)
            content = recs[0][2]
            self.assertIn(b"FCGI_MAX_CONNS", content)
            self.assertIn(b"FCGI_MPXS_CONNS0", content[1:])
            self.assertNotIn(b"X_UNKNOWN", content)

    def test_unknown_management_type_gets_unknown_type(self):
        with Stack(BINARY, workers=1) as stack:
            s = self.connect(stack)
            s.sendall(record(42, 0, b"\0" * 8))
            recs = read_records(s, until=UNKNOWN_TYPE)
            self.assertEqual(recs, [(UNKNOWN_TYPE, 0, bytes([42]) + b"\0" * 7)])

    def test_huge_name_value_lengths_close_the_connection(self):
        with Stack(BINARY, workers=1) as stack:
            pids = stack.worker_pids()
            s = self.connect(stack)
            s.sendall(HUGE_LENGTHS)
            self.assertIsNotNone(closed_within(s, 3), "the connection stayed open")
            self.assert_worker_survived(stack, pids)
            self.assertTrue([line for line in stack.stderr_lines if "FastCGI connection closed" in line], stack.logs())

    def test_other_roles_are_refused(self):
        with Stack(BINARY, workers=1) as stack:
            s = self.connect(stack)
            s.sendall(request(role=AUTHORIZER))
            recs = read_records(s)
            self.assertEqual(len(recs), 1, recs)
            rtype, rid, content = recs[0]
            self.assertEqual((rtype, rid), (END_REQUEST, 1))
            self.assertEqual(content[4], UNKNOWN_ROLE)
            self.assertIsNotNone(closed_within(s, 3))

    def test_malformed_records_close_the_connection(self):
        cases = {
            "version 2": b"\x02" + request()[1:],
            "params before begin": record(PARAMS, 1, pairs([(b"A", b"B")])),
            "a second request id": request()[:16] + record(PARAMS, 2) + record(STDIN, 2),
            "management record inside a request": request()[:16] + record(GET_VALUES, 0),
            "params ending inside a pair": (request()[:16] + record(PARAMS, 1, b"\x05\x05abc")
                                            + record(PARAMS, 1) + record(STDIN, 1)),
            "request over 64 KiB": (request()[:16] + record(PARAMS, 1, pairs([(b"A", b"x" * 60000)]))
                                    + record(PARAMS, 1, pairs([(b"B", b"x" * 10000)]))),
        }
        with Stack(BINARY, workers=1) as stack:
            pids = stack.worker_pids()
            for name, data in cases.items():
                s = self.connect(stack)
                try:
                    s.sendall(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                recs = read_records(s, timeout=3)
                self.assertFalse([r for r in recs if r[0] == STDOUT], "%s was answered" % name)
                self.assertIsNotNone(closed_within(s, 3), "%s: the connection stayed open" % name)
            self.assert_worker_survived(stack, pids)

    def test_sigterm_with_stalled_connections_exits_promptly(self):
        delay = 1
        stack = Stack(BINARY, workers=2, env={"SHUTDOWN_DELAY_SECONDS": str(delay), "GRACE_SECONDS": "20",
                                              "FASTCGI_DEADLINE_MS": "30000"}).start()
        try:
            for worker in (0, 1):
                self.connect(stack, worker).sendall(request()[:4])
                self.connect(stack, worker).sendall(request()[:20])
                self.connect(stack, worker)
            time.sleep(0.1)
            code, seconds = stack.stop(signal.SIGTERM, timeout=30)
            print("  SIGTERM with six stalled connections: exit %s after %.2fs" % (code, seconds))
            self.assertEqual(code, 0, stack.logs())
            self.assertLess(seconds, delay + 1, stack.logs())
        finally:
            stack.kill_all()


def main():
    global BINARY
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    BINARY = os.path.abspath(parser.parse_args().binary)
    sys.exit(0 if runner.run([Peers]) else 1)


if __name__ == "__main__":
    main()
