# nginx_runner: one nginx with the built module in a temp prefix; conf from a
# template, start/reload/stop, and the error.log checks a teardown enforces.

import os
import re
import shutil
import signal
import subprocess
import time

from env import (NGINX_BIN, STARTUP_TIMEOUT, TAILOR_MODULE, VALGRIND, VALGRIND_BIN,
                 VALGRIND_ERROR_EXIT, HarnessError, wait_for)
from http_client import http_request
from ports import free_port, port_open
from processes import children, pid_alive
from tempdirs import open_tree

CONF_TEMPLATE = """\
# written by tests/integration/nginx_runner.py
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

# How far nginx's cached clock (ngx_time(), ngx_timeofday()) may lag the real
# one, in seconds: it is refreshed after every epoll_wait, or only every
# timer_resolution (100ms) in the valgrind run. A test that brackets a
# timestamp nginx recorded between two clock readings widens the bracket by this.
CLOCK_LAG = 0.1 if VALGRIND else 0.0

# error.log lines that fail a test unless it says it expects them (nginx-tests'
# implicit checks, plus the sanitizers').
BAD_LOG = re.compile(
    r"\[alert\]|\[emerg\]|\[crit\]|runtime error:|AddressSanitizer|LeakSanitizer"
    r"|UndefinedBehaviorSanitizer|ThreadSanitizer|MemorySanitizer|==\d+==ERROR")
BIND_TAKEN = re.compile(
    r"\[emerg\] .*bind\(\) to 127\.0\.0\.1:\d+ failed \(98: Address already in use\)")


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
        # a probed port may be taken by another test process before nginx
        # binds it: the first start then moves to another one (write() again)
        self._port_may_move = True
        self._written = None       # write()'s arguments and text, to render again
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
        self._written = (http, main, vars, self.conf_text)
        return self.conf_text

    def _move_port(self, out):
        """After a failed first start: if our probed port was taken meanwhile
        and the conf is write()'s, render it again on another port."""
        if not (self._port_may_move and self._written is not None
                and self._written[3] == self.conf_text
                and "127.0.0.1:%d failed (98: Address already in use)" % self.port in out):
            return False
        self._port_may_move = False
        self.port = free_port()
        http, main, vars, _ = self._written
        self.write(http, main, **vars)
        return True

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
        log = self.read_log()
        # nginx retries a bind that found the port taken (another test process probing or
        # binding the same random port) every 500 ms, 5 times; when a retry won, the
        # [emerg] it logged for the attempt before is no failure of the module
        retried = "still could not bind()" not in log
        out = []
        for line in log.splitlines():
            if retried and BIND_TAKEN.search(line):
                continue
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
                out = (p.stdout + p.stderr).decode(errors="replace")
                if self._move_port(out + self.log_tail()):
                    return self.start(wait)
                raise HarnessError("nginx failed to start (rc %d):\n%s\n%s" % (
                    p.returncode, out, self.log_tail()))
            self._port_may_move = False
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
