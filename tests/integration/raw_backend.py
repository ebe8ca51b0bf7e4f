# raw_backend: an upstream that answers every request with the same raw bytes.

from tcp_server import TcpServer


class RawBackend(TcpServer):
    """Answers every request with `response` (a test may change it between requests), then
    closes the connection if `close_after` says so."""

    def __init__(self, response, close=False):
        super().__init__()
        self.response = response
        self.close_after = close

    def _serve(self, s, idx):
        buf = b""
        try:
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buf:
                    data = s.recv(65536)
                    if not data:
                        return
                    buf += data
                _, _, buf = buf.partition(b"\r\n\r\n")
                s.sendall(self.response)
                if self.close_after:
                    return
        except OSError:
            pass
        finally:
            s.close()
