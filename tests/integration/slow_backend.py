# slow_backend: an HTTP/1.1 upstream that serves a body in tiny pieces and can
# stall mid-body, so a test sees what nginx streams before the rest arrives.

import gzip
import threading
import time

from tcp_server import TcpServer


class SlowBackend(TcpServer):
    """An HTTP/1.1 upstream that serves `body` in tiny pieces.

      chunk_size, delay   bytes per send() and the pause between sends
      chunked             Transfer-Encoding: chunked (each piece one chunk) or Content-Length
      gzip                compress the body and send Content-Encoding: gzip
      stall_at            body offset at which to stop sending until resume()
      headers             extra response headers [(name, value)]
      content_type, status
    `routes` maps a path to a dict of the same keyword arguments, overriding them.
    .requests lists (method, path, headers) of every request, .sent_bodies the
    body bytes of every response; .stalled is an Event set when a response
    reaches its stall point.
    """

    def __init__(self, body=b"", chunk_size=1, delay=0.0, chunked=True, gzip=False,
                 stall_at=None, headers=None, content_type="text/html", status=200,
                 routes=None, port=None):
        self.defaults = dict(body=body, chunk_size=chunk_size, delay=delay, chunked=chunked,
                             gzip=gzip, stall_at=stall_at, headers=list(headers or []),
                             content_type=content_type, status=status)
        super().__init__(port)
        self.routes = dict(routes or {})
        self.requests = []
        self.sent_bodies = []      # the exact body bytes of each response, as framed
        self.stalled = threading.Event()
        self._continue = threading.Event()

    def resume(self):
        self._continue.set()

    backlog = 128

    def stop(self):
        self._continue.set()
        super().stop()

    def _read_request(self, s, buf):
        while b"\r\n\r\n" not in buf:
            data = s.recv(65536)
            if not data:
                return None, buf
            buf += data
        head, _, buf = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip(), v.strip()))
        hmap = {k.lower(): v for k, v in headers}
        n = int(hmap.get("content-length", "0"))
        while len(buf) < n:
            data = s.recv(65536)
            if not data:
                return None, buf
            buf += data
        buf = buf[n:]
        return (method, path, headers), buf

    def _serve(self, s, idx):
        buf = b""
        try:
            while not self._stop.is_set():
                req, buf = self._read_request(s, buf)
                if req is None:
                    return
                with self._lock:
                    self.requests.append(req)
                method, path, headers = req
                spec = dict(self.defaults)
                spec.update(self.routes.get(path.split("?")[0], {}))
                keep = self._respond(s, method, spec)
                hmap = {k.lower(): v.lower() for k, v in headers}
                if not keep or hmap.get("connection") == "close":
                    return
        except OSError:
            pass
        finally:
            try:
                s.close()
            except OSError:
                pass

    def _respond(self, s, method, spec):
        body = spec["body"]
        if isinstance(body, str):
            body = body.encode()
        if spec["gzip"]:
            body = gzip.compress(body)
        with self._lock:
            self.sent_bodies.append(body)
        head = ["HTTP/1.1 %d X" % spec["status"], "Content-Type: " + spec["content_type"]]
        if spec["gzip"]:
            head.append("Content-Encoding: gzip")
        if spec["chunked"]:
            head.append("Transfer-Encoding: chunked")
        else:
            head.append("Content-Length: %d" % len(body))
        head += ["%s: %s" % kv for kv in spec["headers"]]
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if method == "HEAD":
            return True
        size, delay, stall = max(1, spec["chunk_size"]), spec["delay"], spec["stall_at"]
        off = 0
        while off < len(body):
            if stall is not None and off == stall:
                self.stalled.set()
                self._continue.wait()
                if self._stop.is_set():
                    return False
            end = min(off + size, len(body))
            if stall is not None and off < stall < end:
                end = stall
            piece = body[off:end]
            if spec["chunked"]:
                s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            else:
                s.sendall(piece)
            off = end
            if delay:
                time.sleep(delay)
        if spec["chunked"]:
            s.sendall(b"0\r\n\r\n")
        return True
