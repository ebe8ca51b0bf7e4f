# redis_server: a real redis-server on a probed loopback port.

import os
import signal
import subprocess

from env import IO_TIMEOUT, REDIS_BIN, STARTUP_TIMEOUT, HarnessError, wait_for
from ports import free_port
from resp import RespClient, RespError


class Redis:
    """A redis-server on a probed loopback port, data dir in a temp dir.

    set/get/delete are binary safe. pause()/resume() send SIGSTOP/SIGCONT (the
    kernel still accepts connections, nothing answers). kill() is SIGKILL;
    start() again restarts on the same port with an empty dataset. `binary` is
    the redis-server it runs (a subclass may wrap it).
    """

    def __init__(self, workdir, port=None):
        self.dir = workdir
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or free_port()
        # a probed port may be taken by another test process before
        # redis-server binds it: the first start then moves to another one
        self.port_may_move = port is None
        self.proc = None
        self.paused = False
        self.binary = REDIS_BIN

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            raise HarnessError("redis already running")
        moves = 3 if self.port_may_move else 0
        while True:
            try:
                self._start_once()
                break
            except HarnessError:
                if moves == 0 or "Address already in use" not in self.log_tail():
                    raise
                moves -= 1
                self.port = free_port()
        # a restart keeps the port: the test handed it out
        self.port_may_move = False
        return self

    def _start_once(self):
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.dir,
             "--daemonize", "no", "--logfile", os.path.join(self.dir, "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.paused = False
        me = ("\r\nprocess_id:%d\r\n" % self.proc.pid).encode()

        def ready():
            if self.proc.poll() is not None:
                raise HarnessError("redis-server exited with %s:\n%s"
                                   % (self.proc.returncode, self.log_tail()))
            try:
                c = RespClient(self.port, timeout=1.0)
                try:
                    # ours, not a server of another test on the same port
                    info = c.command("INFO", "server")
                    return me in (info if isinstance(info, bytes) else info.encode())
                finally:
                    c.close()
            except (OSError, RespError):
                return False
        wait_for(ready, STARTUP_TIMEOUT, "redis-server on port %d" % self.port)

    def log_tail(self, n=20):
        try:
            with open(os.path.join(self.dir, "redis.log"), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def client(self):
        return RespClient(self.port)

    def command(self, *args):
        c = self.client()
        try:
            return c.command(*args)
        finally:
            c.close()

    def set(self, key, value, *opts):
        return self.command("SET", key, value, *opts)

    def get(self, key):
        return self.command("GET", key)

    def delete(self, *keys):
        return self.command("DEL", *keys)

    def flushall(self):
        return self.command("FLUSHALL")

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)
        self.paused = False

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            if self.paused:
                self.resume()
            self.proc.kill()
            self.proc.wait(timeout=IO_TIMEOUT)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        if self.paused:
            self.resume()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=IO_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def restart(self):
        self.kill()
        # the port stays ours: nobody else asked for it, and redis sets SO_REUSEADDR
        return self.start()
