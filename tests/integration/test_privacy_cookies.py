# Cookies (issue 14, item 4): the issue time is inside the MAC and a cookie
# past the maximum age is a new visitor; a cookie of an older key, or of the
# previous release's form, is accepted and re-signed under the current key;
# a known customer's cookie is never the same twice; two different valid
# cookies attach the request to neither; the upstream's "logout" issues a
# fresh id with nothing linking it and the default page; `Secure` is set on
# https by default.

import base64
import hashlib
import hmac
import os
import secrets
import socket
import ssl
import subprocess
import time

import pytest

from env import IO_TIMEOUT, module_has, wait_for
from http_client import read_until_close
from msgpack_codec import msgpack_unpack
from ports import free_port
from visitor import new_vid
import scenario
from scenario import PAGE, cookie_header, set_cookies


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def craft(keys, vid, issued_at=None, kid="k1", legacy=False):
    """A cookie value made the documented way (visitor_id.h), at any time."""
    secret = bytes.fromhex(dict(keys.keys)[kid])
    if legacy:
        msg = "%s.%s" % (vid, kid)
    else:
        msg = "%s.%s.%08x%s" % (vid, kid, issued_at, b64(os.urandom(8)))
    return "%s.%s" % (msg, b64(hmac.new(secret, msg.encode(), hashlib.sha256).digest()))


def start(nginx, redis, keys, cookie="tailor_vid max_age=30d path=/", backend=None, extra=""):
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, cookie=cookie,
                        backend=backend, http_extra=extra)


def test_a_cookie_past_the_maximum_age_is_a_new_visitor(nginx, redis, keys):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    start(nginx, redis, keys)
    now = int(time.time())
    young = nginx.get("/index.html",
                      headers=cookie_header("tailor_vid", craft(keys, vid, now - 29 * 86400)))
    assert b"Hi Ann" in young.body and not set_cookies(young)
    old = nginx.get("/index.html",
                    headers=cookie_header("tailor_vid", craft(keys, vid, now - 31 * 86400)))
    assert b"Hi Ann" not in old.body
    assert [c[1].split(".")[0] != vid for c in set_cookies(old)] == [True], "a new id"
    future = nginx.get("/index.html",
                       headers=cookie_header("tailor_vid", craft(keys, vid, now + 86400)))
    assert b"Hi Ann" not in future.body


def test_an_old_key_or_the_legacy_form_is_resigned_under_the_current_key(nginx, redis, keys):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi again"})
    now = int(time.time())
    old_key = craft(keys, vid, now - 3600)
    legacy = craft(keys, vid, legacy=True)
    keys.keys.insert(0, ("k2", secrets.token_hex(32)))   # the new key signs, k1 still verifies
    keys.write()
    start(nginx, redis, keys)
    for value in (old_key, legacy):
        r = nginx.get("/index.html", headers=cookie_header("tailor_vid", value))
        assert b"Hi again" in r.body, "still the same visitor"
        resigned = set_cookies(r)
        assert len(resigned) == 1, r.headers
        v, kid, stamp, _ = resigned[0][1].split(".")
        assert (v, kid) == (vid, "k2") and abs(int(stamp[:8], 16) - now) < 600
        # and the re-signed cookie is a returning visitor's: nothing more to issue
        again = nginx.get("/index.html", headers=cookie_header("tailor_vid", resigned[0][1]))
        assert b"Hi again" in again.body and not set_cookies(again)
    # once k1 is retired, a k2 cookie is all the visitor needs
    keys.keys.pop()
    keys.write()


def test_two_different_valid_cookies_attach_the_request_to_neither(nginx, redis, keys, sign):
    victim, attacker = new_vid(), new_vid()
    scenario.seed(redis, victim, {"hero": "Victim's cart"})
    scenario.seed(redis, attacker, {"hero": "Attacker's page"})
    start(nginx, redis, keys)
    for order in ((victim, attacker), (attacker, victim)):
        r = nginx.get("/index.html", headers={
            "Cookie": "tailor_vid=%s; tailor_vid=%s" % (sign(order[0]), sign(order[1]))})
        assert r.body == PAGE, "neither visitor's page"
        issued = set_cookies(r)
        assert len(issued) == 1 and issued[0][1].split(".")[0] not in (victim, attacker)
    # the same id twice is that id
    r = nginx.get("/index.html", headers={
        "Cookie": "tailor_vid=%s; tailor_vid=%s" % (sign(victim), sign(victim))})
    assert b"Victim's cart" in r.body


def test_known_customer_cookies_differ_each_time(nginx, redis, keys, sign, backend):
    known = new_vid()
    b = backend(body=PAGE, chunk_size=4096, headers=[("X-Tailor-Identify", known)])
    start(nginx, redis, keys, backend=b.address)
    values = {set_cookies(nginx.get("/up/login",
                                    headers=cookie_header("tailor_vid", sign(new_vid()))))[0][1]
              for _ in range(3)}
    assert len(values) == 3 and {v.split(".")[0] for v in values} == {known}


def test_logout_issues_a_fresh_id_with_no_link_and_the_default_page(nginx, redis, keys, sign,
                                                                    backend):
    customer = new_vid()
    scenario.seed(redis, customer, {"hero": "Welcome back, Ann"})
    b = backend(body=PAGE, chunk_size=4096, headers=[("X-Tailor-Identify", "logout")])
    start(nginx, redis, keys, backend=b.address,
          extra="tailor_events on; tailor_events_flush_interval 5ms;")
    r = nginx.get("/up/logout", headers=cookie_header("tailor_vid", sign(customer)))
    assert r.status == 200 and not r.has("X-Tailor-Identify")
    assert b"Welcome back, Ann" not in r.body, "the next person on this device sees no one"
    issued = set_cookies(r)
    assert len(issued) == 1
    fresh = issued[0][1].split(".")[0]
    assert fresh != customer
    # the next page under the fresh cookie is anonymous
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", issued[0][1]))
    assert b"Welcome back, Ann" not in r.body
    time.sleep(0.3)
    for _, kv in redis.command("XRANGE", "tailor:events", "-", "+"):
        e = msgpack_unpack(dict(zip(kv[::2], kv[1::2]))[b"e"])
        assert e["type"] != "Identify" and e.get("prev") is None, "nothing links the two ids"
    assert redis.command("HGETALL", "tailor:{%s}:ev" % fresh) in ([], None) or \
        b"merged_into" not in redis.command("HGETALL", "tailor:{%s}:ev" % fresh)


def https_get(port, path="/index.html"):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(("GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" % path).encode())
            data = read_until_close(s)
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    return [l.split(":", 1)[1].strip() for l in head.split("\r\n")
            if l.lower().startswith("set-cookie:")]


@pytest.mark.parametrize("setting,secure", [("", True), ("no_secure", False)])
def test_secure_by_default_on_https(nginx, redis, keys, workdir, setting, secure):
    cert, key = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    tls = free_port()
    nginx.write_file("html/index.html", PAGE)
    nginx.write(http="""
    tailor_redis %s;
    tailor_keys %s;
    server {
        listen 127.0.0.1:{{PORT}};
        root html;
        location / { tailor on; tailor_cookie tailor_vid %s; }
    }
    server {
        listen 127.0.0.1:%d ssl;
        ssl_certificate %s;
        ssl_certificate_key %s;
        root html;
        location / { tailor on; tailor_cookie tailor_vid %s; }
    }""" % (redis.address, keys.path, setting, tls, cert, key, setting))
    nginx.start()
    plain = set_cookies(nginx.get("/index.html"))
    assert len(plain) == 1 and not plain[0][2].get("secure"), "plain http: no Secure"
    over_tls = https_get(tls)
    assert len(over_tls) == 1, over_tls
    assert ("; Secure" in over_tls[0]) == secure, over_tls
