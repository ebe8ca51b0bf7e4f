# The pop-up runtime (client/popups.js) in a real browser, Debian's headless
# Chromium driven by playwright-core: tests/browser/popups.mjs on the demo
# storefront (conf/demo/run: nginx with the built module, redis-server, the
# demo personas) on probed loopback ports, and tests/browser/runtime.mjs on
# synthetic pages for the triggers the demo does not declare. The scenarios
# are in those scripts; this file starts them and holds the size budget.
#
# Needs node, /usr/bin/chromium and `npm ci --prefix tests/browser`
# (.ci/install-deps does all three). A missing tool fails the test: the
# browser tests must run in CI, so they never skip.
#
#   TAILOR_SCREENSHOT_DIR  also save popup-cart-rescue.png (the docs' picture) there
#   TAILOR_CHROMIUM        another Chromium binary (default /usr/bin/chromium)

import gzip
import os
import re
import shutil
import subprocess
import sys

import pytest

from env import NGINX_BIN, TAILOR_MODULE, TAILOR_SOURCE_DIR, TAILORCTL, wait_for
from nginx_runner import BAD_LOG
from ports import free_port, port_open

SOURCE_DIR = TAILOR_SOURCE_DIR or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BROWSER_DIR = os.path.join(SOURCE_DIR, "tests", "browser")
CHROMIUM = os.environ.get("TAILOR_CHROMIUM", "/usr/bin/chromium")
# bounds on waiting, never asserted: the sanitizer build and 2 shared cores are slow
DEMO_TIMEOUT = 120.0
BROWSER_TIMEOUT = 420.0


RUNTIME = os.path.join(SOURCE_DIR, "client", "popups.js")
# docs/popups.md: what the module embeds, gzipped, is at most this
RUNTIME_BUDGET = 3072


def missing_tools():
    missing = []
    if not shutil.which("node"):
        missing.append("node (apt-get install nodejs npm)")
    if not os.access(CHROMIUM, os.X_OK):
        missing.append("%s (apt-get install chromium)" % CHROMIUM)
    if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
        missing.append("tests/browser/node_modules/playwright-core (npm ci --prefix tests/browser)")
    return missing


def require_tools():
    missing = missing_tools()
    if missing:
        pytest.fail("the browser tests need: %s; run `make test` (its deps step runs "
                    ".ci/install-deps) or .ci/install-deps yourself" % ", ".join(missing),
                    pytrace=False)


def run_node(script, *args):
    """Run a tests/browser script; print its output, fail with it on a non-zero exit."""
    argv = ["node", os.path.join(BROWSER_DIR, script), "--chromium", CHROMIUM] + list(args)
    p = subprocess.run(argv, cwd=BROWSER_DIR, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=BROWSER_TIMEOUT)
    out = p.stdout.decode(errors="replace")
    sys.stdout.write(out)
    return p.returncode, out


def embedded(source):
    """The runtime as the build embeds it: each line's leading blanks and the
    blank and `//` lines gone (the sed line in docs/popups.md)."""
    lines = (re.sub(r"^\s+", "", line) for line in source.split("\n"))
    return "\n".join(line for line in lines if line and not line.startswith("//"))


def test_runtime_fits_its_budget():
    with open(RUNTIME, encoding="utf-8") as f:
        source = f.read()
    size = len(gzip.compress(embedded(source).encode(), 9))
    assert size <= RUNTIME_BUDGET, "client/popups.js is %d bytes gzipped, over %d" % (
        size, RUNTIME_BUDGET)
    assert "/*" not in source, "block comments would survive the build's stripping"


def test_runtime_on_synthetic_pages():
    require_tools()
    rc, out = run_node("runtime.mjs")
    assert rc == 0, "tests/browser/runtime.mjs failed (rc %d):\n%s" % (rc, out)


@pytest.fixture
def demo(workdir):
    """The demo storefront on free ports: (base URL, Redis port, prefix)."""
    require_tools()
    if not TAILORCTL or not os.access(TAILORCTL, os.X_OK):
        pytest.fail("the demo needs tailorctl: set TAILORCTL (ctest does)", pytrace=False)
    prefix = os.path.join(workdir, "demo")
    port, redis_port = free_port(), free_port()
    env = dict(os.environ, TAILOR_DEMO_DETACH="1", TAILOR_DEMO_PREFIX=prefix,
               TAILOR_DEMO_PORT=str(port), TAILOR_DEMO_REDIS_PORT=str(redis_port),
               # the demo's 20 ms budget is for people; a loaded CI machine
               # must not turn a page under test into the default page
               TAILOR_DEMO_TIMEOUT="5s",
               TAILOR_MODULE=TAILOR_MODULE, TAILORCTL=TAILORCTL,
               NGINX_BIN=NGINX_BIN)
    stop = [os.path.join(SOURCE_DIR, "conf", "demo", "stop")]
    p = subprocess.run([os.path.join(SOURCE_DIR, "conf", "demo", "run")], env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=DEMO_TIMEOUT)
    try:
        out = p.stdout.decode(errors="replace")
        assert p.returncode == 0, "conf/demo/run failed (rc %d):\n%s" % (p.returncode, out)
        wait_for(lambda: port_open(port), DEMO_TIMEOUT, "the demo's nginx")
        yield "http://127.0.0.1:%d" % port, redis_port, prefix
    finally:
        subprocess.run(stop, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=DEMO_TIMEOUT)
    log = read(os.path.join(prefix, "error.log"))
    bad = [line for line in log.splitlines() if BAD_LOG.search(line)]
    if bad:
        pytest.fail("the demo's error.log has unexpected lines:\n  " + "\n  ".join(bad[:20]),
                    pytrace=False)


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def test_popups_on_the_demo_storefront(demo, workdir):
    base, redis_port, prefix = demo
    rc, out = run_node("popups.mjs", "--base", base, "--redis-port", str(redis_port),
                       "--artifacts", workdir)
    if rc != 0:
        sys.stderr.write("\n--- demo error.log (tail) ---\n%s\n--- demo access log (tail) ---\n%s\n"
                         % (tail(os.path.join(prefix, "error.log")),
                            tail(os.path.join(prefix, "tailor.log"))))
    assert rc == 0, "tests/browser/popups.mjs failed (rc %d; TAILOR_TEST_LEAVE=1 keeps its " \
        "screenshots):\n%s" % (rc, out)


def tail(path, n=30):
    return "".join(read(path).splitlines(True)[-n:])
