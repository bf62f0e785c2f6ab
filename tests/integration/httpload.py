"""A small closed-loop HTTP/1.1 load generator with keep-alive, for fault tests.

It behaves like a careful HTTP client: a request that got *no byte* of answer on a connection
the server closed (the keep-alive race, or a connection never accepted) is retried once on a new
connection, as RFC 9110 section 9.2.2 allows for idempotent methods. Anything else counts as failed:
a non-200 status, a wrong body, or a connection that broke in the middle of an answer.
"""

import socket
import threading
import time


class Load:
    def __init__(self, port, path="/?name=Load", expect=b"Hello Load!", threads=8, host="127.0.0.1"):
        self.host, self.port, self.path, self.expect = host, port, path, expect
        self.threads = threads
        self.ok = 0
        self.failed = []          # (kind, detail)
        self.refused = 0          # connect refused: the listener is closed (shut down)
        self.retried = 0          # no-byte answers retried on a new connection
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = []
        self.request = ("GET %s HTTP/1.1\r\nHost: load\r\n\r\n" % path).encode()

    def start(self):
        for _ in range(self.threads):
            t = threading.Thread(target=self._run, daemon=True)
            t.start()
            self._workers.append(t)
        return self

    def stop(self):
        self._stop.set()
        for t in self._workers:
            t.join(10)
        return self

    def summary(self):
        return "ok=%d failed=%d refused=%d retried=%d %s" % (
            self.ok, len(self.failed), self.refused, self.retried, self.failed[:5])

    # ------------------------------------------------------------------ internals
    def _count(self, field, value=None):
        with self._lock:
            if field == "failed":
                self.failed.append(value)
            else:
                setattr(self, field, getattr(self, field) + 1)

    def _connect(self):
        s = socket.create_connection((self.host, self.port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def _exchange(self, sock):
        """Sends one request, reads one answer. Returns (status, body, closed_by_server);
        raises NoAnswer when not a byte came back, Broken when the answer was cut."""
        try:
            sock.sendall(self.request)
        except OSError as e:
            raise NoAnswer(str(e))
        buf = b""
        while b"\r\n\r\n" not in buf:
            try:
                chunk = sock.recv(4096)
            except OSError as e:
                if buf:
                    raise Broken("head cut: %s" % e)
                raise NoAnswer(str(e))
            if not chunk:
                if buf:
                    raise Broken("head cut by close")
                raise NoAnswer("closed")
            buf += chunk
        head, body = buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
            if name.strip().lower() == b"connection" and value.strip().lower() == b"close":
                close = True
        while len(body) < length:
            try:
                chunk = sock.recv(4096)
            except OSError as e:
                raise Broken("body cut: %s" % e)
            if not chunk:
                raise Broken("body cut by close")
            body += chunk
        return status, body, close

    def _run(self):
        sock = None
        while not self._stop.is_set():
            attempts = 0
            while attempts < 2 and not self._stop.is_set():
                attempts += 1
                if sock is None:
                    try:
                        sock = self._connect()
                    except ConnectionRefusedError:
                        self._count("refused")
                        time.sleep(0.01)
                        break
                    except OSError as e:
                        self._count("failed", ("connect", str(e)))
                        time.sleep(0.01)
                        break
                try:
                    status, body, close = self._exchange(sock)
                except NoAnswer:
                    sock.close()
                    sock = None
                    if attempts == 1:
                        self._count("retried")
                        continue
                    self._count("refused")  # twice without an answer: the server is going away
                    break
                except Broken as e:
                    sock.close()
                    sock = None
                    self._count("failed", ("broken", str(e)))
                    break
                if status == 200 and body == self.expect:
                    self._count("ok")
                else:
                    self._count("failed", (status, body[:60]))
                if close:
                    sock.close()
                    sock = None
                break
        if sock is not None:
            sock.close()


class NoAnswer(Exception):
    pass


class Broken(Exception):
    pass
