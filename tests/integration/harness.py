# harness: real nginx, real redis-server and small Python peers on probed loopback ports.
#
# Everything here is stdlib-only (Debian's /usr/bin/python3). conftest.py wraps
# these classes in pytest fixtures; the classes themselves know nothing of pytest
# so they can also be driven from a REPL when debugging a scenario.
#
# Environment:
#   TAILOR_MODULE      path of the built ngx_http_tailor_module.so (required)
#   NGINX_BIN          nginx binary (default /usr/sbin/nginx)
#   TAILORCTL          tailorctl binary (sign cookies, encode profiles)
#   TAILOR_SOURCE_DIR  the source tree (demo pages, docs)
#   TAILOR_TEST_LEAVE  1: keep each test's temp dir and print its path
#   TAILOR_VALGRIND    1: run nginx under valgrind, master_process off, daemon off
#   TAILOR_VALGRIND_OPTS  extra valgrind options (e.g. --leak-check=full)

import gzip
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import stat
import struct
import subprocess
import tempfile
import threading
import time

NGINX_BIN = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")
TAILOR_MODULE = os.environ.get("TAILOR_MODULE", "")
TAILORCTL = os.environ.get("TAILORCTL", "")
TAILOR_SOURCE_DIR = os.environ.get("TAILOR_SOURCE_DIR", "")
REDIS_BIN = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")
VALGRIND_BIN = os.environ.get("VALGRIND", "/usr/bin/valgrind")
VALGRIND_ERROR_EXIT = 97

LEAVE = os.environ.get("TAILOR_TEST_LEAVE") == "1"
VALGRIND = os.environ.get("TAILOR_VALGRIND") == "1"

# Generous, because machines are shared and valgrind is slow. These bound how
# long we wait for something that must happen; no test asserts on them.
STARTUP_TIMEOUT = 120.0 if VALGRIND else 15.0
IO_TIMEOUT = 60.0 if VALGRIND else 10.0


class HarnessError(Exception):
    pass


class Unavailable(Exception):
    """A tool the test needs is not built yet (conftest turns this into a skip)."""


# ---------------------------------------------------------------------------
# ports and temp dirs

_handed_out = set()
_port_lock = threading.Lock()


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A loopback TCP port that nobody listens on now and this process has not
    handed out. It is taken below the kernel's ephemeral range: a port probed
    free there could become the local end of any outgoing connection (nginx to
    Redis, a browser, a client) before the server under test binds it."""
    rng = random.SystemRandom()
    high = _ephemeral_low()
    low = 10000 if high > 12000 else 1024
    with _port_lock:
        for _ in range(200):
            port = rng.randrange(low, high)
            if port in _handed_out:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            finally:
                s.close()
            _handed_out.add(port)
            return port
    raise HarnessError("no free loopback port")


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def wait_for(predicate, timeout, what, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            raise HarnessError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)
        interval = min(interval * 1.5, 0.25)


def make_tempdir(name):
    d = tempfile.mkdtemp(prefix="tailor-it-%s-" % re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60])
    os.chmod(d, 0o755)   # workers run as nobody when the master is root
    return d


def open_tree(path):
    """chmod a tree so unprivileged workers can read it (dirs 755, files 644)."""
    os.chmod(path, 0o755)
    for root, dirs, files in os.walk(path):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for f in files:
            p = os.path.join(root, f)
            os.chmod(p, stat.S_IMODE(os.stat(p).st_mode) | 0o644)


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return False
    # after the closing ")" of comm: state; a zombie has exited
    return st[st.rindex(")") + 2] != "Z"


def children(ppid, marker=None):
    """Live pids whose parent is ppid (and whose cmdline contains marker)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            rest = st[st.rindex(")") + 2:].split()
            if rest[0] == "Z" or int(rest[1]) != ppid:
                continue
            if marker is not None:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if marker.encode() not in f.read():
                        continue
            out.append(int(d))
        except (OSError, ValueError, IndexError):
            continue
    return sorted(out)


# ---------------------------------------------------------------------------
# RESP: a tiny, binary-safe Redis client

class RespError(Exception):
    pass


def resp_encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RespClient:
    def __init__(self, port, host="127.0.0.1", timeout=IO_TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("redis closed the connection")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RespError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RespError("bad reply type %r" % line)

    def command(self, *args):
        self.sock.sendall(resp_encode(*args))
        r = self._reply()
        if isinstance(r, RespError):
            raise r
        return r


# ---------------------------------------------------------------------------
# real redis-server

class Redis:
    """A redis-server on a probed loopback port, data dir in a temp dir.

    set/get/delete are binary safe. pause()/resume() send SIGSTOP/SIGCONT (the
    kernel still accepts connections, nothing answers). kill() is SIGKILL;
    start() again restarts on the same port with an empty dataset.
    """

    def __init__(self, workdir, port=None):
        self.dir = workdir
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or free_port()
        self.proc = None
        self.paused = False

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            raise HarnessError("redis already running")
        self.proc = subprocess.Popen(
            [REDIS_BIN, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.dir,
             "--daemonize", "no", "--logfile", os.path.join(self.dir, "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.paused = False

        def ready():
            if self.proc.poll() is not None:
                raise HarnessError("redis-server exited with %s:\n%s"
                                   % (self.proc.returncode, self.log_tail()))
            try:
                c = RespClient(self.port, timeout=1.0)
                try:
                    return c.command("PING") == "PONG"
                finally:
                    c.close()
            except (OSError, RespError):
                return False
        wait_for(ready, STARTUP_TIMEOUT, "redis-server on port %d" % self.port)
        return self

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


# ---------------------------------------------------------------------------
# a TCP peer that speaks broken RESP

class FakeRedis:
    """The one fake: a real Redis cannot answer garbage.

    Modes (change at any time with .mode = ...):
      "random"      random bytes for every read
      "wrong_type"  an integer reply (":42") where a bulk or array is expected
      "wrong_array" an array of integers, as if MGET returned numbers
      "error"       "-ERR ..." for every command
      "incomplete"  a bulk header promising 1000 bytes, 3 of them, then silence
      "silent"      read everything, never answer
      "close"       close the connection as soon as something arrives
    .received holds every byte received, .connections counts accepted ones.
    """

    MODES = ("random", "wrong_type", "wrong_array", "error", "incomplete", "silent", "close")

    def __init__(self, mode="random", port=None, seed=None):
        if mode not in self.MODES:
            raise ValueError(mode)
        self.mode = mode
        self.port = port or free_port()
        self.received = b""
        self.connections = 0
        self.rng = random.Random(seed)
        self._lock = threading.Lock()
        self._socks = []
        self._stop = threading.Event()
        self.listener = None

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self):
        while not self._stop.is_set():
            try:
                s, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._socks.append(s)
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

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

    def _serve(self, s):
        try:
            while not self._stop.is_set():
                data = s.recv(65536)
                if not data:
                    return
                with self._lock:
                    self.received += data
                if self.mode == "close":
                    return
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

    def stop(self):
        self._stop.set()
        if self.listener is not None:
            self.listener.close()
        with self._lock:
            for s in self._socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass


# ---------------------------------------------------------------------------
# nginx

CONF_TEMPLATE = """\
# written by tests/integration/harness.py
load_module {{MODULE}};

{{PROCESS}}
pid logs/nginx.pid;
error_log logs/error.log {{LOG_LEVEL}};

{{MAIN}}

events {
    worker_connections 1024;
}

http {
    access_log logs/access.log;
    client_body_temp_path temp/client_body;
    proxy_temp_path       temp/proxy;
    fastcgi_temp_path     temp/fastcgi;
    uwsgi_temp_path       temp/uwsgi;
    scgi_temp_path        temp/scgi;

    types {
        text/html               html;
        text/plain              txt;
        text/css                css;
        application/javascript  js;
        application/json        json;
        image/png               png;
    }
    default_type application/octet-stream;

{{HTTP}}
}
"""

# error.log lines that fail a test unless it says it expects them (nginx-tests'
# implicit checks, plus the sanitizers').
BAD_LOG = re.compile(
    r"\[alert\]|\[emerg\]|\[crit\]|runtime error:|AddressSanitizer|LeakSanitizer"
    r"|UndefinedBehaviorSanitizer|ThreadSanitizer|MemorySanitizer|==\d+==ERROR")


def _nginx_env():
    """The environment nginx runs with. TAILOR_NGINX_PRELOAD names a sanitizer
    runtime (libasan.so) to load first, for a module built with ASan; its
    reports go to nginx's stderr, which a daemon sends to error.log, where the
    teardown looks for them."""
    preload = os.environ.get("TAILOR_NGINX_PRELOAD")
    if not preload:
        return None
    env = dict(os.environ)
    env["LD_PRELOAD"] = preload
    # nginx frees its pools at exit without unwinding everything; leaks are
    # not what this run is for
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    return env


NGINX_ENV = _nginx_env()


class Nginx:
    """One nginx instance in a temp prefix.

    conf = nginx.write(http=..., main=..., **vars) renders the template; the
    http/main text may use {{NAME}} placeholders: PORT (the main listen port),
    PREFIX, MODULE and any keyword passed in. start(), reload(), stop();
    test_config() returns (rc, stderr) of nginx -t and never starts anything.
    """

    def __init__(self, prefix, worker_processes=1, log_level="info"):
        self.prefix = prefix
        self.port = free_port()
        self.worker_processes = worker_processes
        self.log_level = log_level
        self.allowed = []          # regexes of BAD_LOG lines the test expects
        self.proc = None           # valgrind mode: the foreground process
        self.master_pid = None
        self.conf_text = None
        for d in ("conf", "logs", "html", "temp"):
            os.makedirs(os.path.join(prefix, d), exist_ok=True)
        open_tree(prefix)

    # -- files

    def path(self, *parts):
        return os.path.join(self.prefix, *parts)

    @property
    def conf_path(self):
        return self.path("conf", "nginx.conf")

    @property
    def error_log(self):
        return self.path("logs", "error.log")

    def write_file(self, rel, data, mode=0o644):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        os.chmod(p, mode)
        open_tree(self.prefix)
        return p

    def render(self, http="", main="", **vars):
        if VALGRIND:
            # timer_resolution: SIGALRM wakes epoll_wait, so a signal that lands
            # just before it (a wider window under valgrind) is still seen
            process = "daemon off;\nmaster_process off;\ntimer_resolution 100ms;"
        else:
            process = "daemon on;\nmaster_process on;\nworker_processes %d;" % self.worker_processes
        text = CONF_TEMPLATE
        text = text.replace("{{PROCESS}}", process).replace("{{MAIN}}", main)
        text = text.replace("{{HTTP}}", http)
        values = {"MODULE": TAILOR_MODULE, "PORT": str(self.port), "PREFIX": self.prefix,
                  "LOG_LEVEL": self.log_level}
        values.update({k: str(v) for k, v in vars.items()})
        for k, v in values.items():
            text = text.replace("{{%s}}" % k, v)
        left = re.findall(r"\{\{[A-Za-z_0-9]+\}\}", text)
        if left:
            raise HarnessError("unfilled placeholders in nginx.conf: %s" % sorted(set(left)))
        return text

    def write(self, http="", main="", **vars):
        self.conf_text = self.render(http, main, **vars)
        self.write_file("conf/nginx.conf", self.conf_text)
        return self.conf_text

    def line_of(self, needle):
        """1-based line number of the first conf line containing needle."""
        for i, line in enumerate(self.conf_text.splitlines(), 1):
            if needle in line:
                return i
        raise HarnessError("%r not in nginx.conf" % needle)

    # -- expectations on error.log

    def allow_log(self, pattern):
        """This test expects error.log lines matching pattern (e.g. an [emerg])."""
        self.allowed.append(re.compile(pattern))

    def read_log(self, name="error.log"):
        try:
            with open(self.path("logs", name), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def bad_log_lines(self):
        out = []
        for line in self.read_log().splitlines():
            if BAD_LOG.search(line) and not any(p.search(line) for p in self.allowed):
                out.append(line)
        return out

    def log_tail(self, n=40):
        return "".join(self.read_log().splitlines(True)[-n:])

    # -- processes

    def _argv(self, *extra):
        return [NGINX_BIN, "-p", self.prefix + "/", "-c", self.conf_path,
                "-e", self.error_log] + list(extra)

    def test_config(self):
        """nginx -t on the written conf: (rc, stderr). Logs go to logs/test-config.log."""
        argv = [NGINX_BIN, "-t", "-p", self.prefix + "/", "-c", self.conf_path,
                "-e", self.path("logs", "test-config.log")]
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=STARTUP_TIMEOUT, env=NGINX_ENV)
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace")

    def start(self, wait=True):
        if self.conf_text is None:
            raise HarnessError("write() the conf first")
        if VALGRIND:
            opts = ["--error-exitcode=%d" % VALGRIND_ERROR_EXIT, "--trace-children=no",
                    "--num-callers=30", "--track-origins=yes",
                    "--log-file=" + self.path("logs", "valgrind.log")]
            supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "valgrind",
                                "nginx.supp")
            if os.path.exists(supp):
                opts.append("--suppressions=" + os.path.abspath(supp))
            opts += os.environ.get("TAILOR_VALGRIND_OPTS", "").split()
            self.proc = subprocess.Popen([VALGRIND_BIN] + opts + self._argv(),
                                         stdin=subprocess.DEVNULL,
                                         stdout=open(self.path("logs", "stdout.log"), "wb"),
                                         stderr=subprocess.STDOUT)
            self.master_pid = self.proc.pid
        else:
            p = subprocess.run(self._argv(), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=STARTUP_TIMEOUT, env=NGINX_ENV)
            if p.returncode != 0:
                raise HarnessError("nginx failed to start (rc %d):\n%s\n%s" % (
                    p.returncode, (p.stdout + p.stderr).decode(errors="replace"),
                    self.log_tail()))
        if wait:
            self.wait_ready()
        return self

    def _read_pid(self):
        try:
            with open(self.path("logs", "nginx.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def wait_ready(self):
        def ready():
            if self.proc is not None and self.proc.poll() is not None:
                raise HarnessError("nginx exited with %s:\n%s" % (self.proc.returncode,
                                                                 self.log_tail()))
            pid = self._read_pid()
            if pid is None:
                return False
            self.master_pid = pid
            if not VALGRIND and len(self.workers()) < self.worker_processes:
                return False
            return port_open(self.port)
        wait_for(ready, STARTUP_TIMEOUT, "nginx on port %d" % self.port)

    def workers(self):
        if self.master_pid is None:
            return []
        return children(self.master_pid, "worker process")

    def running(self):
        return self.master_pid is not None and pid_alive(self.master_pid)

    def reload(self, expect_fail=False):
        """nginx -s reload, then wait until a full set of new workers is up.

        With expect_fail the new conf is expected to be refused: the old workers
        must keep serving, and the [emerg] is allowed.
        """
        old = set(self.workers())
        mark = len(self.read_log())
        if expect_fail:
            # nginx -s reload would refuse to signal a conf it cannot parse
            self.allow_log(r"\[emerg\]")
            os.kill(self.master_pid, signal.SIGHUP)
        else:
            p = subprocess.run(self._argv("-s", "reload"), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=STARTUP_TIMEOUT, env=NGINX_ENV)
            if p.returncode != 0:
                raise HarnessError("nginx -s reload: rc %d\n%s"
                                   % (p.returncode, p.stderr.decode(errors="replace")))
        if VALGRIND:
            # single process: it re-reads the conf in place
            wait_for(lambda: "reconfiguring" in self.read_log()[mark:], STARTUP_TIMEOUT,
                     "reconfiguring")
            wait_for(lambda: port_open(self.port), STARTUP_TIMEOUT, "port after reload")
            return
        if expect_fail:
            wait_for(lambda: "[emerg]" in self.read_log()[mark:], STARTUP_TIMEOUT,
                     "the refused reload's [emerg]")
            if set(self.workers()) != old:
                raise HarnessError("workers changed although the reload should fail")
            return

        def new_set():
            log = self.read_log()[mark:]
            if "[emerg]" in log:
                raise HarnessError("reload refused:\n" + log)
            fresh = [w for w in self.workers() if w not in old]
            return len(fresh) >= self.worker_processes
        wait_for(new_set, STARTUP_TIMEOUT, "new workers after reload")
        # old workers finish their requests and leave; not waiting would let
        # the next reload's "old" set include them
        try:
            wait_for(lambda: not (old & set(self.workers())), STARTUP_TIMEOUT,
                     "old workers to exit")
        except HarnessError:
            pass

    def stop(self):
        """QUIT and wait. Returns a list of problems (empty when clean)."""
        problems = []
        if VALGRIND and self.proc is not None:
            if self.proc.poll() is None:
                try:
                    deadline = time.monotonic() + STARTUP_TIMEOUT
                    while True:
                        self.proc.send_signal(signal.SIGQUIT)
                        try:
                            self.proc.wait(timeout=5)
                            break
                        except subprocess.TimeoutExpired:
                            if time.monotonic() > deadline:
                                raise
                except subprocess.TimeoutExpired:
                    problems.append("nginx (valgrind) did not exit on QUIT")
                    self.proc.kill()
                    self.proc.wait()
            logdir = os.environ.get("TAILOR_VALGRIND_LOGDIR")
            if logdir and os.path.exists(self.path("logs", "valgrind.log")):
                os.makedirs(logdir, exist_ok=True)
                shutil.copy(self.path("logs", "valgrind.log"),
                            os.path.join(logdir, os.path.basename(os.path.dirname(self.prefix))
                                         + ".valgrind.log"))
            if self.proc.returncode == VALGRIND_ERROR_EXIT:
                problems.append("valgrind found errors:\n" + self.valgrind_report())
            elif self.proc.returncode not in (0, None):
                problems.append("nginx exited with %s" % self.proc.returncode)
            self.proc = None
            return problems
        pid = self.master_pid or self._read_pid()
        if pid is None or not pid_alive(pid):
            return problems
        os.kill(pid, signal.SIGQUIT)
        try:
            wait_for(lambda: not pid_alive(pid), STARTUP_TIMEOUT, "nginx to exit on QUIT")
        except HarnessError:
            problems.append("nginx master %d did not exit on QUIT" % pid)
            for w in children(pid):
                try:
                    os.kill(w, signal.SIGKILL)
                except OSError:
                    pass
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return problems

    def valgrind_report(self):
        try:
            with open(self.path("logs", "valgrind.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # -- convenience

    def get(self, path="/", **kw):
        return http_request(self.port, path, **kw)


# ---------------------------------------------------------------------------
# HTTP client over raw sockets

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


def http_request(port, path="/", method="GET", headers=None, body=None, host="127.0.0.1",
                 timeout=IO_TIMEOUT):
    """One request on a fresh connection (Connection: close); reads to EOF."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(build_request(method, path, headers, body))
        raw = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            raw += chunk
    finally:
        s.close()
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


# ---------------------------------------------------------------------------
# a slow HTTP/1.1 backend

class SlowBackend:
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
        self.routes = dict(routes or {})
        self.port = port or free_port()
        self.requests = []
        self.sent_bodies = []      # the exact body bytes of each response, as framed
        self.stalled = threading.Event()
        self._continue = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._socks = []
        self.listener = None

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(128)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def resume(self):
        self._continue.set()

    def stop(self):
        self._stop.set()
        self._continue.set()
        if self.listener is not None:
            self.listener.close()
        with self._lock:
            for s in self._socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass

    def _accept(self):
        while not self._stop.is_set():
            try:
                s, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self._socks.append(s)
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

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

    def _serve(self, s):
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


# ---------------------------------------------------------------------------
# MessagePack: the subset a profile needs

def msgpack_unpack(data):
    """The value in `data` (maps, arrays, str, bin, ints, floats, nil, bools)."""
    value, pos = _mp(data, 0)
    if pos != len(data):
        raise ValueError("trailing bytes")
    return value


def _mp(b, i):
    t = b[i]
    i += 1
    if t <= 0x7f:
        return t, i
    if 0x80 <= t <= 0x8f:
        return _mp_map(b, i, t & 0x0f)
    if 0x90 <= t <= 0x9f:
        return _mp_arr(b, i, t & 0x0f)
    if 0xa0 <= t <= 0xbf:
        n = t & 0x1f
        return b[i:i + n].decode(), i + n
    if t >= 0xe0:
        return t - 0x100, i
    if t == 0xc0:
        return None, i
    if t in (0xc2, 0xc3):
        return t == 0xc3, i
    fixed = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q", 0xd0: ">b", 0xd1: ">h",
             0xd2: ">i", 0xd3: ">q", 0xca: ">f", 0xcb: ">d"}
    if t in fixed:
        f = fixed[t]
        n = struct.calcsize(f)
        return struct.unpack(f, b[i:i + n])[0], i + n
    lens = {0xd9: ">B", 0xda: ">H", 0xdb: ">I", 0xc4: ">B", 0xc5: ">H", 0xc6: ">I"}
    if t in lens:
        f = lens[t]
        k = struct.calcsize(f)
        n = struct.unpack(f, b[i:i + k])[0]
        raw = b[i + k:i + k + n]
        return (raw.decode() if t in (0xd9, 0xda, 0xdb) else raw), i + k + n
    if t in (0xdc, 0xdd):
        k = 2 if t == 0xdc else 4
        return _mp_arr(b, i + k, int.from_bytes(b[i:i + k], "big"))
    if t in (0xde, 0xdf):
        k = 2 if t == 0xde else 4
        return _mp_map(b, i + k, int.from_bytes(b[i:i + k], "big"))
    raise ValueError("msgpack type 0x%02x" % t)


def _mp_arr(b, i, n):
    out = []
    for _ in range(n):
        v, i = _mp(b, i)
        out.append(v)
    return out, i


def _mp_map(b, i, n):
    out = {}
    for _ in range(n):
        k, i = _mp(b, i)
        v, i = _mp(b, i)
        out[k] = v
    return out, i


def msgpack_pack(obj):
    if obj is None:
        return b"\xc0"
    if obj is True:
        return b"\xc3"
    if obj is False:
        return b"\xc2"
    if isinstance(obj, int):
        if 0 <= obj < 0x80:
            return struct.pack("B", obj)
        if -32 <= obj < 0:
            return struct.pack("b", obj)
        if 0 <= obj <= 0xff:
            return b"\xcc" + struct.pack(">B", obj)
        if 0 <= obj <= 0xffff:
            return b"\xcd" + struct.pack(">H", obj)
        if 0 <= obj <= 0xffffffff:
            return b"\xce" + struct.pack(">I", obj)
        if obj >= 0:
            return b"\xcf" + struct.pack(">Q", obj)
        if obj >= -0x80:
            return b"\xd0" + struct.pack(">b", obj)
        if obj >= -0x8000:
            return b"\xd1" + struct.pack(">h", obj)
        if obj >= -0x80000000:
            return b"\xd2" + struct.pack(">i", obj)
        return b"\xd3" + struct.pack(">q", obj)
    if isinstance(obj, float):
        return b"\xcb" + struct.pack(">d", obj)
    if isinstance(obj, str):
        b = obj.encode()
        n = len(b)
        if n < 32:
            return struct.pack("B", 0xa0 | n) + b
        if n <= 0xff:
            return b"\xd9" + struct.pack(">B", n) + b
        if n <= 0xffff:
            return b"\xda" + struct.pack(">H", n) + b
        return b"\xdb" + struct.pack(">I", n) + b
    if isinstance(obj, (bytes, bytearray)):
        n = len(obj)
        if n <= 0xff:
            return b"\xc4" + struct.pack(">B", n) + bytes(obj)
        if n <= 0xffff:
            return b"\xc5" + struct.pack(">H", n) + bytes(obj)
        return b"\xc6" + struct.pack(">I", n) + bytes(obj)
    if isinstance(obj, (list, tuple)):
        n = len(obj)
        head = (struct.pack("B", 0x90 | n) if n < 16 else
                b"\xdc" + struct.pack(">H", n) if n <= 0xffff else b"\xdd" + struct.pack(">I", n))
        return head + b"".join(msgpack_pack(x) for x in obj)
    if isinstance(obj, dict):
        n = len(obj)
        head = (struct.pack("B", 0x80 | n) if n < 16 else
                b"\xde" + struct.pack(">H", n) if n <= 0xffff else b"\xdf" + struct.pack(">I", n))
        return head + b"".join(msgpack_pack(k) + msgpack_pack(v) for k, v in obj.items())
    raise TypeError("cannot pack %r" % type(obj))


# ---------------------------------------------------------------------------
# tailorctl: keys, cookies, profiles

def profile_key(vid):
    return "tailor:{%s}:profile" % vid


def new_vid():
    """A fresh random visitor id (URL-safe base64 characters), never one
    starting with "-", which tailorctl sign would take for an option."""
    while True:
        v = secrets.token_urlsafe(16)
        if not v.startswith("-"):
            return v


def _tailorctl(args, stdin=None):
    if not TAILORCTL or not os.access(TAILORCTL, os.X_OK):
        raise Unavailable("TAILORCTL is not set or not executable")
    p = subprocess.run([TAILORCTL] + args, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=IO_TIMEOUT)
    if p.returncode != 0:
        err = p.stderr.decode(errors="replace")
        if "not built yet" in err or "unknown command" in err:
            raise Unavailable("tailorctl %s: %s" % (args[0], err.strip()))
        raise HarnessError("tailorctl %s failed (rc %d): %s" % (" ".join(args), p.returncode, err))
    return p.stdout


class KeyFile:
    """A tailor_keys file: lines "<kid> <hex secret>", the first signs."""

    def __init__(self, path, keys=None):
        self.path = path
        self.keys = keys or [("k1", secrets.token_hex(32))]
        self.write()

    def write(self):
        with open(self.path, "w") as f:
            for kid, secret in self.keys:
                f.write("%s %s\n" % (kid, secret))
        os.chmod(self.path, 0o644)

    def sign(self, vid, kid=None):
        """The cookie value "<vid>.<kid>.<mac>" for vid, signed with tailorctl."""
        args = ["sign", "--key-file", self.path]
        if kid:
            args += ["--kid", kid]
        # "--": a random vid may itself start with "--"
        return _tailorctl(args + ["--", vid]).decode().strip()

    def verify(self, value):
        """Does tailorctl accept the cookie value? Returns its stdout or None."""
        try:
            return _tailorctl(["verify", "--key-file", self.path, "--", value]).decode().strip()
        except HarnessError:
            return None


def encode_profile(profile):
    """MessagePack bytes for a profile dict: tailorctl when it can, else our packer."""
    try:
        return _tailorctl(["profile", "encode"], json.dumps(profile).encode())
    except Unavailable:
        return msgpack_pack(profile)


def parse_cookie(set_cookie):
    """'a=b; Path=/; HttpOnly' -> ('a', 'b', {'path': '/', 'httponly': True})"""
    parts = [p.strip() for p in set_cookie.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, eq, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip() if eq else True
    return name.strip(), value.strip(), attrs


# ---------------------------------------------------------------------------
# Prometheus text

def parse_metrics(text):
    """{(name, (("label","value"),...)): float} from the Prometheus text format."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{([^}]*)\})?\s+(\S+)", line)
        if not m:
            raise HarnessError("not Prometheus text: %r" % line)
        labels = tuple(sorted(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"',
                                         m.group(3) or "")))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def metric(metrics, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for (n, ls), v in metrics.items():
        if n == name and all((k, str(val)) in ls for k, val in labels.items()):
            total += v
    return total


def module_has(word):
    """Does the built module know this directive (or any string)? nginx-tests' has()."""
    if not TAILOR_MODULE or not os.path.exists(TAILOR_MODULE):
        return False
    with open(TAILOR_MODULE, "rb") as f:
        return (b"\0" + word.encode() + b"\0") in f.read()


def not_under_valgrind(reason="needs master_process on; valgrind runs master_process off"):
    """A pytest mark: skip this test in the valgrind run (e.g. reloads: nginx's
    single-process mode does not re-arm its listeners after reconfiguring)."""
    import pytest
    return pytest.mark.skipif(VALGRIND, reason=reason)


def remove_tree(path):
    shutil.rmtree(path, ignore_errors=True)


def demo_file(*parts):
    return os.path.join(TAILOR_SOURCE_DIR, *parts)

