# fake_redis: a TCP peer that speaks broken RESP.

import random

from tcp_server import TcpServer


class FakeRedis(TcpServer):
    """The one fake: a real Redis cannot answer garbage.

    Modes (change at any time with .mode = ...):
      "random"      random bytes for every read
      "wrong_type"  an integer reply (":42") where a bulk or array is expected
      "wrong_array" an array of integers, as if MGET returned numbers
      "error"       "-ERR ..." for every command
      "incomplete"  a bulk header promising 1000 bytes, 3 of them, then silence
      "silent"      read everything, never answer
      "close"       close the connection as soon as something arrives
    Every whole command gets one answer (the module pipelines several in one write).
    .received holds every byte received, .connections counts accepted ones.
    """

    MODES = ("random", "wrong_type", "wrong_array", "error", "incomplete", "silent", "close")

    def __init__(self, mode="random", port=None, seed=None):
        if mode not in self.MODES:
            raise ValueError(mode)
        super().__init__(port)
        self.mode = mode
        self.received = b""
        self.rng = random.Random(seed)

    def _answer(self):
        m = self.mode
        if m == "random":
            return bytes(self.rng.getrandbits(8) for _ in range(self.rng.randint(1, 64)))
        if m == "wrong_type":
            return b":42\r\n"
        if m == "wrong_array":
            return b"*3\r\n:1\r\n:2\r\n:3\r\n"
        if m == "error":
            return b"-ERR tailor test says no\r\n"
        if m == "incomplete":
            return b"$1000\r\nabc"
        return None

    @staticmethod
    def _commands(buf):
        """How many whole commands (RESP arrays of bulk strings) `buf` starts with, and the
        bytes after them: the module pipelines several commands in one write."""
        n, at = 0, 0
        while True:
            end = buf.find(b"\r\n", at)
            if end < 0 or buf[at:at + 1] != b"*":
                return n, buf[at:]
            pos, complete = end + 2, True
            for _ in range(int(buf[at + 1:end])):
                line = buf.find(b"\r\n", pos)
                if line < 0:
                    complete = False
                    break
                pos = line + 2 + int(buf[pos + 1:line]) + 2
                if pos > len(buf):
                    complete = False
                    break
            if not complete:
                return n, buf[at:]
            n, at = n + 1, pos

    def _serve(self, s, idx):
        pending = b""
        try:
            while not self._stop.is_set():
                data = s.recv(65536)
                if not data:
                    return
                with self._lock:
                    self.received += data
                if self.mode == "close":
                    return
                commands, pending = self._commands(pending + data)
                for _ in range(commands):
                    out = self._answer()
                    if out:
                        s.sendall(out)
        except OSError:
            pass
        finally:
            try:
                s.close()
            except OSError:
                pass
