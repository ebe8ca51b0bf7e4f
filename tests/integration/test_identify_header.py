# After a login the shop answers with X-Tailor-Identify: <known id>. The module
# strips it, signs that id into the cookie; a client-sent X-Tailor-Identify is
# never believed.

from visitor import new_vid
import scenario
from scenario import PAGE, cookie_header, set_cookies



def shop(nginx, redis, keys, backend, headers):
    b = backend(body=PAGE, chunk_size=4096, headers=headers)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address,
                        timeout="1s")
    return b


def test_upstream_identify_is_signed_into_cookie_and_stripped(nginx, redis, keys, sign, backend):
    known = new_vid()
    shop(nginx, redis, keys, backend, [("X-Tailor-Identify", known)])
    r = nginx.get("/up/login", headers=cookie_header("tailor_vid", sign(new_vid())))
    assert r.status == 200
    assert not r.has("X-Tailor-Identify"), "stripped before the client"
    cookies = set_cookies(r)
    assert len(cookies) == 1
    value = cookies[0][1]
    assert value.split(".")[0] == known and keys.verify(value) is not None
    assert value != sign(known), "a known customer's cookie is not predictable (nonce)"


def test_identify_header_name_is_configurable(nginx, redis, keys, sign, backend):
    known = new_vid()
    b = backend(body=PAGE, chunk_size=4096, headers=[("X-Shop-Login", known)])
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address,
                        http_extra="tailor_identify_header X-Shop-Login;")
    r = nginx.get("/up/login")
    assert not r.has("X-Shop-Login")
    assert set_cookies(r)[0][1].split(".")[0] == known


def test_invalid_identify_value_is_ignored_but_stripped(nginx, redis, keys, sign, backend):
    shop(nginx, redis, keys, backend, [("X-Tailor-Identify", "short")])
    old = sign(new_vid())
    r = nginx.get("/up/login", headers=cookie_header("tailor_vid", old))
    assert not r.has("X-Tailor-Identify")
    assert not set_cookies(r), "no cookie for an invalid id"


def test_client_sent_identify_is_ignored(nginx, redis, keys, sign, backend):
    victim = new_vid()
    scenario.seed(redis, victim, {"hero": "Victim's page"})
    shop(nginx, redis, keys, backend, [])
    r = nginx.get("/up/index.html", headers={"X-Tailor-Identify": victim})
    assert b"Victim's page" not in r.body
    cookies = set_cookies(r)
    assert len(cookies) == 1 and cookies[0][1].split(".")[0] != victim, "new visitor, new id"
    r = nginx.get("/index.html", headers={"X-Tailor-Identify": victim})
    assert b"Victim's page" not in r.body
    assert set_cookies(r)[0][1].split(".")[0] != victim
