# tcp_server: the loopback listener every fake peer of the tests is built on.

import socket
import threading
import time

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
        self._threads = []
        self.listener = None
        self._acceptor = None

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
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()
        return self

    def _accepted(self, idx):
        """Called under _lock for each new connection, before its thread starts."""

    def _accept(self):
        while not self._stop.is_set():
            try:
                s, _ = self.listener.accept()
            except OSError:
                return
            if self._stop.is_set():
                s.close()
                return
            with self._lock:
                idx = self.connections
                self.connections += 1
                self._socks.append(s)
                self._accepted(idx)
                t = threading.Thread(target=self._serve, args=(s, idx), daemon=True)
                self._threads.append(t)
            t.start()

    def _serve(self, s, idx):
        raise NotImplementedError

    def stop(self):
        # The listener is closed only after its accept thread has left accept(): closed
        # under it, its descriptor number could go to the next test's listener while the
        # thread is about to call accept() again, and the stopped server would then take,
        # and drop, the new server's connections.
        self._stop.set()
        if self.listener is not None:
            try:
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept()
            except OSError:
                pass
            if self._acceptor is not None and self._acceptor is not threading.current_thread():
                self._acceptor.join(timeout=10)
            self.listener.close()
        # The same for each connection: shut down (its thread wakes and returns), then
        # closed once its thread is gone or has had its chance.
        with self._lock:
            socks, threads = list(self._socks), list(self._threads)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + 2.0
        for t in threads:
            if t is not threading.current_thread():
                t.join(timeout=max(0.0, deadline - time.monotonic()))
        for s in socks:
            try:
                s.close()
            except OSError:
                pass
