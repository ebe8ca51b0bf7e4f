# The demo storefront (`make demo`: conf/demo/run with the built module) shows
# what a shop would ship: every block a rule writes is styled by the site's
# stylesheet, every link on a persona's pages resolves, the reorder prompt has
# a button, and the copy follows the customer's clock (40 days after a first
# order is not "thanks for your first order").

import html.parser
import os
import re
import subprocess

import pytest

from env import NGINX_BIN, TAILOR_MODULE, TAILOR_SOURCE_DIR, TAILORCTL, wait_for
from http_client import http_request
from nginx_runner import BAD_LOG
from ports import free_port, port_open

SOURCE_DIR = TAILOR_SOURCE_DIR or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
DEMO = os.path.join(SOURCE_DIR, "conf", "demo")
DEMO_TIMEOUT = 120.0   # a bound on waiting for the demo to start, never asserted
PERSONAS = sorted(f[:-5] for f in os.listdir(os.path.join(DEMO, "profiles"))
                  if f.endswith(".json"))
SLOTS = ("hero", "rewards", "reorder", "recommendations", "cart-summary")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """conf/demo/run on free ports: (port, {persona: cookie header})."""
    if not TAILORCTL or not os.access(TAILORCTL, os.X_OK):
        pytest.fail("the demo needs tailorctl: set TAILORCTL (ctest does)", pytrace=False)
    prefix = str(tmp_path_factory.mktemp("demo"))
    port, redis_port = free_port(), free_port()
    env = dict(os.environ, TAILOR_DEMO_DETACH="1", TAILOR_DEMO_PREFIX=prefix,
               TAILOR_DEMO_PORT=str(port), TAILOR_DEMO_REDIS_PORT=str(redis_port),
               TAILOR_DEMO_TIMEOUT="5s", TAILOR_MODULE=TAILOR_MODULE, TAILORCTL=TAILORCTL,
               NGINX_BIN=NGINX_BIN)
    p = subprocess.run([os.path.join(DEMO, "run")], env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=DEMO_TIMEOUT)
    try:
        assert p.returncode == 0, "conf/demo/run failed:\n" + p.stdout.decode(errors="replace")
        wait_for(lambda: port_open(port), DEMO_TIMEOUT, "the demo's nginx")
        cookies = {}
        for persona in PERSONAS:
            r = http_request(port, "/as/" + persona)
            assert r.status == 302, (persona, r.status)
            cookies[persona] = {"Cookie": r.header("Set-Cookie").split(";")[0]}
        yield port, cookies
    finally:
        subprocess.run([os.path.join(DEMO, "stop")], env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=DEMO_TIMEOUT)
    with open(os.path.join(prefix, "error.log"), errors="replace") as f:
        bad = [line for line in f if BAD_LOG.search(line)]
    assert not bad, "the demo's error.log:\n" + "".join(bad[:20])


def page(demo, persona, path="/"):
    port, cookies = demo
    r = http_request(port, path, headers=cookies[persona] if persona else None)
    assert r.status == 200, (persona, path, r.status)
    return r.body.decode()


def slot(body, name):
    m = re.search(r'<tailor-slot name="%s"[^>]*>(.*?)</tailor-slot>' % re.escape(name), body,
                  re.S)
    return m.group(1) if m else None


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.classes = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("href"):
            self.hrefs.append(a["href"])
        self.classes += (a.get("class") or "").split()


def parse(fragment):
    p = Links()
    p.feed(fragment)
    return p


def stylesheet_classes():
    with open(os.path.join(DEMO, "site", "style.css")) as f:
        css = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    return set(re.findall(r"\.([A-Za-z][\w-]*)", css))


def test_every_class_a_rule_writes_is_styled(demo):
    styled = stylesheet_classes()
    seen = set()
    for persona in PERSONAS:
        for path in ("/", "/cart.html"):
            body = page(demo, persona, path)
            for name in SLOTS:
                seen |= set(parse(slot(body, name) or "").classes)
    assert {"rewards", "reorder", "recs", "button"} <= seen, seen
    assert seen <= styled, "classes without a rule in style.css: %s" % sorted(seen - styled)


def test_every_link_on_the_personas_pages_resolves(demo):
    port, _ = demo
    checked = {}
    pages = ["/", "/cart.html"]
    for persona in PERSONAS + [None]:
        for path in pages:
            for href in parse(page(demo, persona, path)).hrefs:
                target = href.split("#")[0]
                if not target.startswith("/") or target in checked:
                    continue
                checked[target] = http_request(port, target).status
                if target.startswith("/products/") and target not in pages:
                    pages.append(target)   # and the links on the product pages
    assert any(t.startswith("/products/") for t in checked), checked
    broken = {t: s for t, s in checked.items() if s != 200}
    assert not broken, broken


def test_recommendations_link_to_the_products_they_name(demo):
    recs = slot(page(demo, "repeat-buyer"), "recommendations")
    items = re.findall(r'<a href="(/products/[^"]+)">([^<]+)</a>', recs)
    assert items, recs
    for href, name in items:
        assert "<h1>%s</h1>" % name in page(demo, "repeat-buyer", href), (href, name)


def test_the_reorder_prompt_has_a_button_to_the_product(demo):
    reorder = slot(page(demo, "repeat-buyer"), "reorder")
    m = re.search(r'<a class="button" href="(/products/[^"#]+)[^"]*">Reorder</a>', reorder)
    assert m, reorder
    assert "data-tailor-add-to-cart" in page(demo, "repeat-buyer", m.group(1))


def test_forty_days_after_her_first_order_lena_reads_current_copy(demo):
    body = page(demo, "cart-abandoner")   # conf/demo/profiles: one order, 40 days ago
    hero = slot(body, "hero")
    assert "Thanks for your first order" not in hero, hero
    assert "5 weeks since your first bag" in hero, hero
    assert "Reorder</a>" in slot(body, "reorder")


def test_a_first_order_last_week_is_still_thanked(demo):
    hero = slot(page(demo, "first-time-buyer"), "hero")   # one order, 6 days ago
    assert "Thanks for your first order, Noor" in hero, hero
