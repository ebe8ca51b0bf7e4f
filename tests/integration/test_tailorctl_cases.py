# tailorctl as marketers and operators run it: every command answers --help
# and -h with its usage and exit 0; `rules test` cases can say what a page must
# not contain, and a typo in a case (a slot, a pop-up, a profile field, a case
# field) fails the case by name instead of silently checking nothing; the
# example packs' own cases pass.

import glob
import os
import re
import subprocess

import pytest

from env import IO_TIMEOUT, TAILORCTL

SOURCE = os.environ.get("TAILOR_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))

if not TAILORCTL or not os.access(TAILORCTL, os.X_OK):
    pytest.skip("TAILORCTL is not set", allow_module_level=True)


def run(*args):
    p = subprocess.run([TAILORCTL] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=IO_TIMEOUT)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


# every command and subcommand; test_the_help_test_knows_every_command keeps it whole
COMMANDS = [["sign"], ["verify"], ["profile"], ["profile", "encode"], ["profile", "decode"],
            ["profile", "erase"], ["render"], ["events"], ["events", "tail"],
            ["events", "emit"], ["triggers"], ["triggers", "run"], ["experiments"],
            ["experiments", "report"], ["rules"], ["rules", "check"], ["rules", "test"],
            ["rules", "render"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_command_prints_its_usage_on_help(command, flag):
    rc, out, err = run(*(command + [flag]))
    assert rc == 0, (rc, out, err)
    assert out.startswith("usage: tailorctl %s" % command[0]), out
    assert " ".join(command) in out, out   # the usage names the subcommand asked about
    assert err == ""


@pytest.mark.parametrize("flag", ["--help", "-h", "help"])
def test_tailorctl_help_lists_the_commands_and_exits_0(flag):
    rc, out, err = run(flag)
    assert rc == 0, (rc, out, err)
    assert out.startswith("usage: tailorctl COMMAND"), out


def test_the_man_page_describes_every_command():
    # debian/tailorctl.1 ships in the package: one .B entry per command and subcommand
    with open(os.path.join(SOURCE, "debian", "tailorctl.1")) as f:
        entries = [l[3:].replace("\\fR", "").replace("\\fB", "").replace("|", " ")
                   for l in f if l.startswith(".B ")]
    for command in COMMANDS:
        if len(command) == 1 and any(c[0] == command[0] and len(c) > 1 for c in COMMANDS):
            continue   # a command with subcommands is described by them
        name = " ".join(command)
        assert any(e.startswith(name + " ") or " %s " % command[-1] in " " + e
                   for e in entries if e.startswith(command[0])), name


def test_the_help_test_knows_every_command():
    rc, out, _ = run("--help")
    listed = re.findall(r"^  ([a-z]+) ", out.split("commands:", 1)[1], re.M)
    assert len(listed) >= 8, out
    assert set(listed) <= {c[0] for c in COMMANDS}, out


def test_a_dash_h_after_double_dash_is_an_argument_not_help(tmp_path):
    keys = tmp_path / "k.keys"
    keys.write_text("k1 " + "ab" * 32 + "\n")
    rc, out, err = run("verify", "--key-file", str(keys), "--", "-h")
    assert rc == 1, (rc, out, err)  # a cookie value that does not verify
    assert "usage" not in out


def test_an_unknown_command_is_still_a_usage_error():
    rc, _, err = run("nope", "--help")
    assert rc == 2 and "unknown command" in err


PACK = """\
local t = require "tailor"
t.slot "hero" {
  t.rule "vip"         { when = t.lifecycle "vip", html = [[Your VIP perks, {{first_name}}]] },
  t.rule "first-order" { when = t.lifecycle "new_buyer",
                         html = [[Thanks for your first order, {{first_name}}]] },
}
t.slot "promo" { t.rule "promo" { html = [[Free shipping]] } }
"""


def rules_test(tmp_path, cases):
    pack = tmp_path / "pack.lua"
    pack.write_text(PACK)
    path = tmp_path / "cases.lua"
    path.write_text(cases)
    return run("rules", "test", str(pack), str(path))


VIP = ('profile = { first_name = "Sofia", first_seen = days_ago(900), orders_count = 23, '
       'last_order_at = days_ago(9), total_spent = 184250 }')


def test_not_contains_passes_when_the_page_lacks_the_text(tmp_path):
    rc, out, err = rules_test(tmp_path, """return {
  { name = "a vip never reads the first-order copy", %s,
    not_contains = { hero = "first order", ["*"] = { "first order", "Thanks" } },
    contains = { hero = "VIP", ["*"] = "Free shipping" } },
  { name = "a default slot contains nothing", profile = {},
    not_contains = { hero = "first order" } },
}""" % VIP)
    assert rc == 0, out + err
    assert "2 cases, 0 failed" in out


def test_not_contains_fails_when_the_page_holds_the_text(tmp_path):
    rc, out, _ = rules_test(tmp_path, """return {
  { name = "stale copy", %s, not_contains = { ["*"] = "VIP perks" } },
}""" % VIP)
    assert rc == 1
    assert "FAIL stale copy" in out
    assert 'slot *: html contains "VIP perks"' in out, out


@pytest.mark.parametrize("field,problem", [
    ('expect = { heor = "vip" }', 'unknown slot "heor" in expect'),
    ('contains = { promoo = "Free" }', 'unknown slot "promoo" in contains'),
    ('not_contains = { heroo = "x" }', 'unknown slot "heroo" in not_contains'),
    ('popup = "cart-rescue"', 'unknown pop-up "cart-rescue" in popup'),
    ('contians = { hero = "VIP" }', 'unknown case field "contians"'),
    ('live = { vists = 3 }', 'unknown live field "vists"'),
    ('exposed = { ["hero-copi"] = "a" }', 'unknown experiment "hero-copi" in exposed'),
])
def test_a_typo_in_a_case_fails_it_by_name(tmp_path, field, problem):
    rc, out, _ = rules_test(tmp_path, """return {
  { name = "vip case", %s, %s },
}""" % (VIP, field))
    assert rc == 1, out
    assert "FAIL vip case" in out
    assert problem in out, out


def test_a_typo_in_a_profile_key_fails_the_case(tmp_path):
    rc, out, _ = rules_test(tmp_path, """return {
  { name = "typo", profile = { frist_name = "Ann", purchases = { { sku = "A", at = days_ago(2),
                                                                   qtty = 1 } } } },
}""")
    assert rc == 1
    assert "FAIL typo" in out
    assert 'unknown profile field "frist_name"' in out, out
    assert 'unknown profile field "purchases[0].qtty"' in out, out
    assert "the pack's slots: hero, promo" not in out, "nothing else is reported"


def test_the_example_packs_pass_their_own_cases():
    cases = sorted(glob.glob(os.path.join(SOURCE, "lua", "examples", "*_cases.lua")))
    assert cases
    for c in cases:
        pack = c[:-len("_cases.lua")] + ".lua"
        rc, out, err = run("rules", "test", pack, c)
        assert rc == 0, "%s:\n%s%s" % (os.path.basename(c), out, err)
