# conftest: pytest fixtures over the harness modules (env.py lists them);
# teardown enforces nginx-tests' implicit log checks.
#
#   workdir       the test's temp dir (kept, and printed, with TAILOR_TEST_LEAVE=1)
#   nginx         an Nginx in workdir/nginx, not started: write(http=...), start()
#   nginx_factory more instances: nginx_factory(worker_processes=2)
#   redis         a running redis-server on a probed port
#   fake_redis    factory: fake_redis("garbage mode") -> started FakeRedis
#   backend       factory: backend(body=..., chunk_size=1, ...) -> started SlowBackend
#   keys          a KeyFile in workdir (one random key, k1); keys.sign(vid)
#
# Teardown stops nginx with QUIT and fails the test when error.log holds an
# [alert], [emerg], [crit] or sanitizer line that the test did not announce with
# nginx.allow_log(pattern), or when nginx does not exit. On any failure the log
# tail is printed.

import os
import sys

import pytest

from env import LEAVE, NGINX_BIN, TAILOR_MODULE, Unavailable
from fake_redis import FakeRedis
from nginx_runner import Nginx
from redis_server import Redis
from slow_backend import SlowBackend
from tailorctl import KeyFile
from tempdirs import make_tempdir, remove_tree

sys.dont_write_bytecode = True


def pytest_configure(config):
    if not TAILOR_MODULE or not os.path.exists(TAILOR_MODULE):
        raise pytest.UsageError("TAILOR_MODULE must name the built ngx_http_tailor_module.so")
    if not os.access(NGINX_BIN, os.X_OK):
        raise pytest.UsageError("NGINX_BIN %r is not executable" % NGINX_BIN)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(request):
    rep = getattr(request.node, "rep_call", None)
    return rep is not None and rep.failed


@pytest.fixture
def workdir(request):
    d = make_tempdir(request.node.name)
    yield d
    if LEAVE:
        print("\nTAILOR_TEST_LEAVE: %s kept %s" % (request.node.nodeid, d))
    else:
        remove_tree(d)


@pytest.fixture
def nginx_factory(request, workdir):
    made = []

    def make(worker_processes=1, log_level="info"):
        prefix = os.path.join(workdir, "nginx%s" % (len(made) or ""))
        ng = Nginx(prefix, worker_processes=worker_processes, log_level=log_level)
        made.append(ng)
        return ng

    yield make

    problems = []
    for ng in made:
        stop_problems = ng.stop()
        bad = ng.bad_log_lines()
        problems += ["%s: %s" % (ng.prefix, p) for p in stop_problems]
        if bad:
            problems.append("%s/logs/error.log has unexpected lines:\n  %s"
                            % (ng.prefix, "\n  ".join(bad[:20])))
        if problems or _failed(request):
            sys.stderr.write("\n--- %s/logs/error.log (tail) ---\n%s\n" % (ng.prefix, ng.log_tail()))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def nginx(nginx_factory):
    return nginx_factory()


@pytest.fixture
def redis(workdir):
    r = Redis(os.path.join(workdir, "redis")).start()
    yield r
    r.stop()


@pytest.fixture
def fake_redis():
    made = []

    def make(mode="random", seed=None):
        f = FakeRedis(mode, seed=seed).start()
        made.append(f)
        return f

    yield make
    for f in made:
        f.stop()


@pytest.fixture
def backend():
    made = []

    def make(**kw):
        b = SlowBackend(**kw).start()
        made.append(b)
        return b

    yield make
    for b in made:
        b.stop()


@pytest.fixture
def keys(workdir):
    return KeyFile(os.path.join(workdir, "tailor.keys"))


@pytest.fixture
def sign(keys):
    """sign(vid) -> cookie value; skips the test while tailorctl sign is not built."""
    def do(vid, kid=None):
        try:
            return keys.sign(vid, kid)
        except Unavailable as e:
            pytest.skip("needs tailorctl sign: %s" % e)
    return do
