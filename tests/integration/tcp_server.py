# tcp_server: the loopback listener every fake peer of the tests is built on.

import socket
import threading

from ports import free_port


class TcpServer:
    """Listens on a free 127.0.0.1 port (or `port`) and runs self._serve(sock, idx) in a
    thread per accepted connection; idx counts connections from 0. Subclasses write
    _serve; `connections` counts accepted ones, `_lock` guards their own state."""

    backlog = 64

    def __init__(self, port=None):
        self.port = port or free_port()
        # a probed port may be taken by another test process before we bind
        # it: the first start then moves to another one
        self._port_may_move = port is None
        self.connections = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._socks = []
        self.listener = None

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        moves = 3 if self._port_may_move else 0
        while True:
            self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.listener.bind(("127.0.0.1", self.port))
                break
            except OSError:
                self.listener.close()
                if moves == 0:
                    raise
                moves -= 1
                self.port = free_port()
        self._port_may_move = False
        self.listener.listen(self.backlog)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accepted(self, idx):
        """Called under _lock for each new connection, before its thread starts."""

    def _accept(self):
        while not self._stop.is_set():
            try:
                s, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                idx = self.connections
                self.connections += 1
                self._socks.append(s)
                self._accepted(idx)
            threading.Thread(target=self._serve, args=(s, idx), daemon=True).start()

    def _serve(self, s, idx):
        raise NotImplementedError

    def stop(self):
        self._stop.set()
        if self.listener is not None:
            self.listener.close()
        with self._lock:
            for s in self._socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                try:
                    s.close()
                except OSError:
                    pass
