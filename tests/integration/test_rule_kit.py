# The rule kit: built into the module, so nothing is read from the source tree
# at run time; `tailor_rules ... kit=PATH` loads another one from disk.

import os
import re
import shutil
import subprocess
import time

import pytest

from env import NGINX_BIN, TAILOR_SOURCE_DIR
from nginx_runner import NGINX_ENV
from tailorctl import encode_profile
from visitor import new_vid, profile_key
import scenario
from scenario import cookie_header

DAY = 86400

# 40 days after a first and only order: new_buyer with the kit's defaults
# (lapsed at 90 days), lapsed with a kit whose default is 30.
PACK = """\
local t = require "tailor"
t.slot "hero" {
  t.rule "win-back" { when = t.lifecycle "lapsed", priority = 90,
                      html = [[We miss you, {{first_name}}]] },
  t.rule "first-order" { when = t.lifecycle "new_buyer", priority = 50,
                         html = [[Thanks for your first order, {{first_name}}]] },
}
"""


def copy_kit(nginx, lapsed_days=None, where="kit"):
    """The source tree's kit under the nginx prefix, optionally with another
    default for lapsed_days; returns the path of its entry file."""
    src = os.path.join(TAILOR_SOURCE_DIR, "lua")
    dst = nginx.path(where)
    os.makedirs(dst, exist_ok=True)
    shutil.copy(os.path.join(src, "tailor.lua"), dst)
    shutil.copytree(os.path.join(src, "tailor"), os.path.join(dst, "tailor"), dirs_exist_ok=True)
    if lapsed_days is not None:
        helpers = os.path.join(dst, "tailor", "helpers.lua")
        text = open(helpers).read()
        changed = re.sub(r"lapsed_days = \d+", "lapsed_days = %d" % lapsed_days, text, count=1)
        changed = re.sub(r"at_risk_days = \d+", "at_risk_days = %d" % (lapsed_days - 5), changed,
                         count=1)
        assert changed != text, "the kit's lifecycle defaults moved; update this test"
        with open(helpers, "w") as f:
            f.write(changed)
    return os.path.join(dst, "tailor.lua")


def shop(nginx, redis, keys, rules_args):
    pack = nginx.write_file("rules.lua", PACK)
    return scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout="1s",
                               http_extra="tailor_rules %s %s;" % (pack, rules_args))


def seed_lena(redis, now):
    vid = new_vid()
    redis.set(profile_key(vid), encode_profile({
        "v": 1, "first_name": "Lena", "first_seen": now - 45 * DAY, "orders_count": 1,
        "last_order_at": now - 40 * DAY, "total_spent": 1250}))
    return vid


def test_without_kit_the_built_in_kit_decides(nginx, redis, keys, sign):
    vid = seed_lena(redis, int(time.time()))
    shop(nginx, redis, keys, "")
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert b">Thanks for your first order, Lena</tailor-slot>" in r.body


def test_kit_parameter_loads_the_kit_from_disk(nginx, redis, keys, sign):
    vid = seed_lena(redis, int(time.time()))
    kit = copy_kit(nginx, lapsed_days=30)
    shop(nginx, redis, keys, "kit=" + kit)
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert b">We miss you, Lena</tailor-slot>" in r.body


def test_kit_parameter_may_come_first_and_be_relative_to_the_conf_dir(nginx, redis, keys, sign):
    """As the rule files: a relative path is relative to nginx.conf's folder."""
    vid = seed_lena(redis, int(time.time()))
    copy_kit(nginx, lapsed_days=30, where="conf/kit")
    pack = nginx.write_file("rules.lua", PACK)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout="1s",
                        http_extra="tailor_rules kit=kit/tailor.lua %s;" % pack)
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert b">We miss you, Lena</tailor-slot>" in r.body


def test_nginx_t_names_a_kit_that_cannot_be_read(nginx, redis, keys):
    pack = nginx.write_file("rules.lua", PACK)
    missing = nginx.path("nowhere", "tailor.lua")
    nginx.write(scenario.tailor_http(redis=redis.address, keys=keys.path,
                                     http_extra="tailor_rules %s kit=%s;" % (pack, missing)))
    rc, out = nginx.test_config()
    assert rc != 0
    assert "cannot read the rule kit" in out and missing in out, out
    assert "nginx.conf:%d" % nginx.line_of("tailor_rules") in out, out


def test_nginx_t_names_the_file_and_line_of_an_error_in_a_kit_part(nginx, redis, keys):
    kit = copy_kit(nginx)
    helpers = nginx.path("kit", "tailor", "helpers.lua")
    with open(helpers, "a") as f:
        f.write("\nthis is not lua (\n")
    lines = sum(1 for _ in open(helpers))
    pack = nginx.write_file("rules.lua", PACK)
    nginx.write(scenario.tailor_http(redis=redis.address, keys=keys.path,
                                     http_extra="tailor_rules %s kit=%s;" % (pack, kit)))
    rc, out = nginx.test_config()
    assert rc != 0
    assert "helpers.lua:%d" % lines in out, out


@pytest.mark.parametrize("args,reason", [
    ("kit=", "empty"),
    ("kit=a.lua kit=b.lua", "duplicate"),
])
def test_nginx_t_refuses_a_bad_kit_parameter(nginx, redis, keys, args, reason):
    pack = nginx.write_file("rules.lua", PACK)
    nginx.write(scenario.tailor_http(redis=redis.address, keys=keys.path,
                                     http_extra="tailor_rules %s %s;" % (pack, args)))
    rc, out = nginx.test_config()
    assert rc != 0
    assert reason in out, out


def test_nginx_t_refuses_a_kit_without_rule_files(nginx, redis, keys):
    kit = copy_kit(nginx)
    nginx.write(scenario.tailor_http(redis=redis.address, keys=keys.path,
                                     http_extra="tailor_rules kit=%s;" % kit))
    rc, out = nginx.test_config()
    assert rc != 0
    assert "needs a rule file" in out, out


def _can_hide(path):
    if not shutil.which("unshare") or os.geteuid() != 0:
        return False
    p = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                        "mount -t tmpfs none %s" % path],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p.returncode == 0


def test_nginx_t_reads_no_kit_from_the_source_tree(nginx, redis, keys):
    """nginx -t with the source tree's lua/ folder hidden (an empty tmpfs over it,
    in a private mount namespace): the kit inside the module is all it needs."""
    lua = os.path.join(TAILOR_SOURCE_DIR, "lua")
    if not _can_hide(lua):
        pytest.skip("needs root and unshare --mount to hide %s" % lua)
    pack = nginx.write_file("rules.lua", PACK)
    nginx.write(scenario.tailor_http(redis=redis.address, keys=keys.path,
                                     http_extra="tailor_rules %s;" % pack))
    script = ('mount -t tmpfs none "$1" && test ! -e "$1/tailor.lua" && '
              'exec "$2" -t -p "$3/" -c "$3/conf/nginx.conf" -e "$3/logs/test-config.log"')
    p = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                        "sh", lua, NGINX_BIN, nginx.prefix],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                       env=NGINX_ENV)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, out
    assert "test is successful" in out, out
