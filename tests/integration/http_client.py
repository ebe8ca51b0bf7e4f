# http_client: HTTP/1.1 over raw sockets, whole responses or read incrementally
# (to see on the wire what nginx has sent so far), and Set-Cookie parsing.

import socket
import time

from env import IO_TIMEOUT, HarnessError


class Response:
    def __init__(self, status, reason, headers, body, raw):
        self.status = status
        self.reason = reason
        self.headers = headers      # [(name, value)] in wire order
        self.body = body            # de-chunked
        self.raw = raw              # bytes as received

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def has(self, name):
        return self.header(name) is not None

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def __repr__(self):
        return "<Response %d %s, %d body bytes>" % (self.status, self.headers, len(self.body))


def build_request(method, path, headers=None, body=None, host="localhost"):
    h = [("Host", host), ("Connection", "close")]
    given = {k.lower() for k, _ in (headers.items() if isinstance(headers, dict) else headers or [])}
    h = [(k, v) for k, v in h if k.lower() not in given]
    items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    h += items
    if body is not None and "content-length" not in given:
        h.append(("Content-Length", str(len(body))))
    head = "%s %s HTTP/1.1\r\n" % (method, path) + "".join("%s: %s\r\n" % kv for kv in h) + "\r\n"
    return head.encode("latin-1") + (body or b"")


def parse_head(raw):
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    return status, reason, headers, rest


class Dechunker:
    """Incremental chunked-body decoder: feed() wire bytes, .body is what is decoded so far
    (including the received part of an unfinished chunk), .done after the last chunk."""

    def __init__(self):
        self.pending = b""
        self.body = b""
        self.left = 0          # payload bytes still due in the current chunk
        self.state = "size"    # size | data | crlf | trailer | done
        self.chunks = []       # sizes as framed on the wire

    @property
    def done(self):
        return self.state == "done"

    def feed(self, data):
        self.pending += data
        while self.pending and self.state != "done":
            if self.state == "size":
                if b"\r\n" not in self.pending:
                    return
                line, self.pending = self.pending.split(b"\r\n", 1)
                size = int(line.split(b";")[0], 16)
                self.chunks.append(size)
                if size == 0:
                    self.state = "trailer"
                else:
                    self.left = size
                    self.state = "data"
            elif self.state == "data":
                take = self.pending[:self.left]
                self.body += take
                self.pending = self.pending[len(take):]
                self.left -= len(take)
                if self.left == 0:
                    self.state = "crlf"
            elif self.state == "crlf":
                if len(self.pending) < 2:
                    return
                self.pending = self.pending[2:]
                self.state = "size"
            elif self.state == "trailer":
                if b"\r\n" not in self.pending:
                    return
                line, self.pending = self.pending.split(b"\r\n", 1)
                if line == b"":
                    self.state = "done"


def read_until_close(s):
    """All a socket (plain or TLS) reads until the server closes it."""
    raw = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return raw
        raw += chunk


def raw_exchange(port, *requests, host="127.0.0.1", timeout=IO_TIMEOUT):
    """Sends `requests` (built bytes) on one fresh connection; returns all it
    reads until the server closes it."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        for request in requests:
            s.sendall(request)
        return read_until_close(s)
    finally:
        s.close()


def http_request(port, path="/", method="GET", headers=None, body=None, host="127.0.0.1",
                 timeout=IO_TIMEOUT):
    """One request on a fresh connection (Connection: close); reads to EOF."""
    raw = raw_exchange(port, build_request(method, path, headers, body), host=host,
                       timeout=timeout)
    if b"\r\n\r\n" not in raw:
        raise HarnessError("incomplete response head: %r" % raw[:200])
    status, reason, hdrs, rest = parse_head(raw)
    te = ",".join(v for k, v in hdrs if k.lower() == "transfer-encoding").lower()
    if method != "HEAD" and "chunked" in te:
        d = Dechunker()
        d.feed(rest)
        if not d.done:
            raise HarnessError("chunked body did not end (got %d bytes)" % len(d.body))
        rest = d.body
    return Response(status, reason, hdrs, rest, raw)


class StreamingRequest:
    """Send a request, then read the response incrementally.

        with StreamingRequest(port, "/page") as s:
            s.read_until(lambda s: b"marker" in s.body)
            ... s.body is the decoded body so far ...
            s.read_to_end()
    """

    def __init__(self, port, path="/", method="GET", headers=None, host="127.0.0.1",
                 timeout=IO_TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.sendall(build_request(method, path, headers))
        self.raw = b""
        self.status = None
        self.headers = None
        self._dechunk = None
        self._plain = b""
        self.eof = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def header(self, name):
        for k, v in self.headers or []:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def body(self):
        if self._dechunk is not None:
            return self._dechunk.body
        return self._plain

    @property
    def complete(self):
        if self._dechunk is not None:
            return self._dechunk.done
        cl = self.header("Content-Length")
        if cl is not None:
            return len(self._plain) >= int(cl)
        return self.eof

    def _feed(self, data):
        self.raw += data
        if self.headers is None:
            if b"\r\n\r\n" not in self.raw:
                return
            self.status, _, self.headers, rest = parse_head(self.raw)
            te = (self.header("Transfer-Encoding") or "").lower()
            if "chunked" in te:
                self._dechunk = Dechunker()
                self._dechunk.feed(rest)
            else:
                self._plain = rest
            return
        if self._dechunk is not None:
            self._dechunk.feed(data)
        else:
            self._plain += data

    def read_once(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not data:
            self.eof = True
            return False
        self._feed(data)
        return True

    def read_until(self, predicate, timeout=IO_TIMEOUT):
        """Read until predicate(self) holds; raises HarnessError at EOF or deadline."""
        deadline = time.monotonic() + timeout
        while not (self.headers is not None and predicate(self)):
            left = deadline - time.monotonic()
            if left <= 0:
                raise HarnessError("timed out; body so far (%d bytes): %r"
                                   % (len(self.body), self.body[-300:]))
            if not self.read_once(min(left, 0.5)) and self.eof:
                if self.headers is not None and predicate(self):
                    break
                raise HarnessError("connection closed; body so far: %r" % self.body[-300:])
        return self

    def drain(self, quiet=0.3, timeout=IO_TIMEOUT):
        """Read whatever arrives until nothing has come for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.read_once(quiet):
            pass
        return self

    def read_to_end(self, timeout=IO_TIMEOUT):
        return self.read_until(lambda s: s.complete, timeout)


def parse_cookie(set_cookie):
    """'a=b; Path=/; HttpOnly' -> ('a', 'b', {'path': '/', 'httponly': True})"""
    parts = [p.strip() for p in set_cookie.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, eq, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip() if eq else True
    return name.strip(), value.strip(), attrs
