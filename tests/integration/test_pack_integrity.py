# Issue 11, items 6 and 7 on real nginx: a pack that rewrites what the kit handed it (a trigger's
# JSON, a rule, the stages) or puts a placeholder where escaping cannot make it safe (a URL list,
# SVG animation, a refresh, a script-bearing attribute) fails `nginx -t` with file:line, and the
# running configuration is never replaced by it.

import pytest

import scenario
from scenario import PAGE


def write_pack(nginx, text):
    nginx.write_file("rules/pack.lua", text.encode())
    return nginx.path("rules", "pack.lua")


def conf(nginx, redis, keys, pack_text):
    return scenario.tailor_http(redis=redis.address, keys=keys.path,
                                http_extra="tailor_rules %s;" % write_pack(nginx, pack_text))


def slot_with(html):
    return 'local t = require "tailor"\nt.slot "hero" { t.rule "r" { html = [[%s]] } }\n' % html


REFUSED = {
    "trigger-json-rewritten": (
        'local t = require "tailor"\nlocal tr = t.exit_intent()\n'
        'tr.json = \'{"type":"exit_intent"}</script><script>alert(1)</script>\'\n', 3),
    "rule-rewritten": (
        'local t = require "tailor"\nlocal r = t.rule "x" { html = "x" }\nr.tpl = 0\n', 3),
    "stages-rewritten": ('local t = require "tailor"\nt.stages.vip = "lapsed"\n', 2),
    "forged-trigger": (
        'local t = require "tailor"\n'
        't.popup "p" { trigger = { json = \'{"type":"exit_intent"}\' }, intent = "cart", '
        'html = "x" }\n', 2),
    "svg-set-to": (slot_with('<svg><a><set attributeName="href" to="{{first_name}}"/></a></svg>'), 2),
    "svg-animate-values": (
        slot_with('<svg><a><animate attributeName="href" values="{{first_name}}"/></a></svg>'), 2),
    "meta-refresh": (
        slot_with('<meta http-equiv="refresh" content="0;url={{first_name}}">'), 2),
    "imagesrcset": (slot_with('<link rel="preload" imagesrcset="{{first_name}} 1x">'), 2),
    "srcset": (slot_with('<img srcset="{{first_name}} 2x">'), 2),
    "href-scheme": (slot_with('<a href="{{first_name}}">x</a>'), 2),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_nginx_t_refuses_the_pack_with_file_and_line(nginx, redis, keys, name):
    text, line = REFUSED[name]
    nginx.write_file("html/index.html", PAGE)
    nginx.write(conf(nginx, redis, keys, text))
    rc, out = nginx.test_config()
    assert rc != 0, "nginx -t accepted it:\n" + out
    assert "pack.lua:%d" % line in out, out


def test_a_refused_pack_never_replaces_the_running_one(nginx, redis, keys):
    nginx.write_file("html/index.html", PAGE)
    nginx.write(conf(nginx, redis, keys, slot_with('<a href="/p/{{first_name}}">Hi</a>')))
    nginx.start()
    assert nginx.get("/index.html").status == 200
    workers = set(nginx.workers())
    nginx.allow_log(r"\[emerg\].*pack\.lua:2")
    write_pack(nginx, slot_with('<a href="{{first_name}}">x</a>'))
    nginx.reload(expect_fail=True)
    assert set(nginx.workers()) == workers, "the old workers keep serving"
    assert nginx.get("/index.html").status == 200
