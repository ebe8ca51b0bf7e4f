# env: what this run was given (binaries, modes, time bounds) and the errors and
# waiting every other harness module shares.
#
# The harness modules (ports, tempdirs, processes, resp, redis_server,
# fake_redis, nginx_runner, http_client, slow_backend, msgpack_codec,
# tailorctl, visitor, metrics_text) are stdlib-only (Debian's /usr/bin/python3).
# conftest.py wraps them in pytest fixtures; they know nothing of pytest (but
# not_under_valgrind, a mark) so they can also be driven from a REPL when
# debugging a scenario.
#
# Environment:
#   TAILOR_MODULE      path of the built ngx_http_tailor_module.so (required)
#   NGINX_BIN          nginx binary (default /usr/sbin/nginx)
#   TAILORCTL          tailorctl binary (sign cookies, encode profiles)
#   TAILOR_INSTALLED   1: TAILOR_MODULE and TAILORCTL default to the installed
#                      packages' /usr/lib/nginx/modules/ngx_http_tailor_module.so
#                      and /usr/bin/tailorctl (make test-deb)
#   TAILOR_SOURCE_DIR  the source tree (demo pages, docs)
#   REDIS_SERVER       redis-server binary (default /usr/bin/redis-server)
#   TAILOR_TEST_LEAVE  1: keep each test's temp dir and print its path
#   TAILOR_VALGRIND    1: run nginx under valgrind, master_process off, daemon off
#   TAILOR_VALGRIND_OPTS  extra valgrind options (e.g. --leak-check=full)

import os
import time

INSTALLED = os.environ.get("TAILOR_INSTALLED") == "1"


def _binary(var, installed_path):
    """$var, else the installed path under TAILOR_INSTALLED=1; absolute, so
    it still names the file from nginx's prefix or a test's cwd."""
    path = os.environ.get(var, "") or (installed_path if INSTALLED else "")
    return os.path.abspath(path) if path else ""


NGINX_BIN = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")
TAILOR_MODULE = _binary("TAILOR_MODULE", "/usr/lib/nginx/modules/ngx_http_tailor_module.so")
TAILORCTL = _binary("TAILORCTL", "/usr/bin/tailorctl")
TAILOR_SOURCE_DIR = os.environ.get("TAILOR_SOURCE_DIR", "")
REDIS_BIN = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")
VALGRIND_BIN = os.environ.get("VALGRIND", "/usr/bin/valgrind")
VALGRIND_ERROR_EXIT = 97

LEAVE = os.environ.get("TAILOR_TEST_LEAVE") == "1"
VALGRIND = os.environ.get("TAILOR_VALGRIND") == "1"
# nginx runs with a sanitizer runtime preloaded (make test-asan): several times slower
SANITIZED = bool(os.environ.get("TAILOR_NGINX_PRELOAD"))

# Generous, because machines are shared and valgrind is slow. These bound how
# long we wait for something that must happen; no test asserts on them.
STARTUP_TIMEOUT = 120.0 if VALGRIND else 15.0
IO_TIMEOUT = 60.0 if VALGRIND else 10.0


class HarnessError(Exception):
    pass


class Unavailable(Exception):
    """A tool the test needs is not built yet (conftest turns this into a skip)."""


def wait_for(predicate, timeout, what, interval=0.02):
    """Poll predicate until it is truthy and return its value; HarnessError
    naming `what` after `timeout` seconds. A bound on waiting, never a test."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            raise HarnessError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)
        interval = min(interval * 1.5, 0.25)


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
