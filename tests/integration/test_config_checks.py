# nginx -t on configurations whose mistake involves two directives: the error
# names the file and line of the directive that needs the other one, not the
# closing brace of http{}; and the key file's own line is named once.

import pytest

from env import module_has


def http(body, keys=None, redis=None, extra=""):
    top = []
    if keys is not None:
        top.append("tailor_keys %s;" % keys)
    if redis is not None:
        top.append("tailor_redis %s;" % redis)
    return "\n    ".join(top + [extra]) + "\n" + body


def emerg_at(nginx, out, needle):
    """The [emerg] line of out names nginx.conf at the line holding needle."""
    line = nginx.line_of(needle)
    emerg = [l for l in out.splitlines() if "[emerg]" in l]
    assert emerg, out
    assert "%s:%d" % (nginx.conf_path, line) in emerg[0], \
        "expected %s:%d (%r) in: %s" % (nginx.conf_path, line, needle, emerg[0])
    return emerg[0]


def refused_at(nginx, needle):
    """nginx -t refuses the conf written last, at the line holding needle:
    the [emerg] line that says so."""
    rc, out = nginx.test_config()
    assert rc != 0
    return emerg_at(nginx, out, needle)


def accepted(nginx):
    """nginx -t accepts the conf written last: what it said (warnings too)."""
    rc, out = nginx.test_config()
    assert rc == 0, out
    return out


def test_tailor_on_without_keys_names_the_tailor_line(nginx):
    nginx.write(http("""
    server {
        listen 127.0.0.1:{{PORT}};
        location /a { }
        location /shop {
            tailor on;
        }
    }
"""))
    line = refused_at(nginx, "tailor on;")
    assert '"tailor on" needs "tailor_keys"' in line


def test_tailor_on_at_http_level_is_named_where_it_is_written(nginx):
    nginx.write(http("""
    tailor on;
    server {
        listen 127.0.0.1:{{PORT}};
        location / { }
    }
"""))
    refused_at(nginx, "tailor on;")


def test_a_server_without_keys_is_refused_when_another_has_them(nginx, keys):
    nginx.write(http("""
    server {
        listen 127.0.0.1:{{PORT}};
        server_name brand-a;
        tailor_keys %s;
        location / { tailor on; }
    }
    server {
        listen 127.0.0.1:{{PORT}};
        server_name brand-b;
        location / { tailor   on; }
    }
""" % keys.path))
    refused_at(nginx, "tailor   on;")


def test_a_bad_key_file_line_is_named_once(nginx):
    bad = nginx.write_file("conf/bad.keys", "# keys\nk1 abcd\n")
    nginx.write(http("""
    server { listen 127.0.0.1:{{PORT}}; location / { tailor on; } }
""", keys=bad))
    line = refused_at(nginx, "tailor_keys")
    assert '"tailor_keys" file "%s", line 2: secret shorter than 32 bytes' % bad in line, line
    assert line.count("line 2") == 1, line


def test_a_missing_key_file_is_named_once(nginx):
    missing = nginx.path("conf", "nope.keys")
    nginx.write(http("""
    server { listen 127.0.0.1:{{PORT}}; location / { tailor on; } }
""", keys=missing))
    line = refused_at(nginx, "tailor_keys")
    assert line.count(missing) == 1, line
    assert "cannot open" in line, line


BEACON_SERVER = """
    server {
        listen 127.0.0.1:{{PORT}};
        location / { tailor on; }
        location = /tailor/beacon {
            tailor_popup_beacon;
        }
    }
"""


def test_the_beacon_without_a_rule_pack_fails_at_its_line(nginx, keys):
    nginx.write(http(BEACON_SERVER, keys=keys.path, redis="127.0.0.1:1"))
    line = refused_at(nginx, "tailor_popup_beacon;")
    assert '"tailor_popup_beacon" needs "tailor_rules"' in line


def test_the_beacon_without_keys_or_redis_fails_at_its_line(nginx, keys):
    pack = nginx.write_file("rules.lua", b'local t = require "tailor"\n')
    nginx.write(http(BEACON_SERVER.replace("location / { tailor on; }", ""),
                     redis="127.0.0.1:1", extra="tailor_rules %s;" % pack))
    assert '"tailor_popup_beacon" needs "tailor_keys"' in refused_at(nginx, "tailor_popup_beacon;")

    nginx.write(http(BEACON_SERVER, keys=keys.path, extra="tailor_rules %s;" % pack))
    assert '"tailor_popup_beacon" needs "tailor_redis"' in refused_at(nginx, "tailor_popup_beacon;")


def test_the_beacon_with_keys_redis_and_a_pack_passes(nginx, keys):
    pack = nginx.write_file("rules.lua", b'local t = require "tailor"\n')
    nginx.write(http(BEACON_SERVER, keys=keys.path, redis="127.0.0.1:1",
                     extra="tailor_rules %s;" % pack))
    accepted(nginx)


events = pytest.mark.skipif(not module_has("tailor_events"), reason="built without events")


@events
def test_events_without_tailor_on_anywhere_fail_at_the_events_line(nginx, keys):
    nginx.write(http("""
    server {
        listen 127.0.0.1:{{PORT}};
        location / {
            tailor_events on;
        }
    }
""", keys=keys.path, redis="127.0.0.1:1"))
    line = refused_at(nginx, "tailor_events on;")
    assert '"tailor_events on" has no effect' in line


@events
def test_events_without_redis_fail_at_the_events_line(nginx, keys):
    nginx.write(http("""
    server {
        listen 127.0.0.1:{{PORT}};
        location / {
            tailor on;
            tailor_events on;
        }
    }
""", keys=keys.path))
    line = refused_at(nginx, "tailor_events on;")
    assert 'needs "tailor_redis"' in line


@events
def test_events_with_tailor_on_elsewhere_pass(nginx, keys):
    nginx.write(http("""
    tailor_events on;
    server {
        listen 127.0.0.1:{{PORT}};
        location / { tailor on; }
    }
""", keys=keys.path, redis="127.0.0.1:1"))
    accepted(nginx)


def test_tailor_max_profile_out_of_bounds_names_its_line(nginx, keys):
    nginx.write(http("""
    tailor_max_profile 5m;
    server { listen 127.0.0.1:{{PORT}}; location / { tailor on; } }
""", keys=keys.path))
    assert '"tailor_max_profile" must be between' in refused_at(nginx, "tailor_max_profile 5m")


@events
def test_an_event_where_tailor_is_off_warns_at_the_event_line(nginx, keys):
    nginx.write(http("""
    server {
        listen 127.0.0.1:{{PORT}};
        location / { tailor on; tailor_events on; }
        location /static/ {
            tailor_events on;
            tailor_event "Product Viewed" product_id=$arg_sku;
        }
    }
""", keys=keys.path, redis="127.0.0.1:1"))
    out = accepted(nginx)
    warn = [l for l in out.splitlines() if "[warn]" in l and "tailor_event" in l]
    assert warn, out
    line = nginx.line_of('tailor_event "Product Viewed"')
    assert "%s:%d" % (nginx.conf_path, line) in warn[0], warn[0]


def test_a_cookie_max_age_of_zero_is_refused_at_its_line(nginx, keys):
    # every cookie would be expired at once: a new visitor on every request
    nginx.write(http("""
    server {
        listen 127.0.0.1:{{PORT}};
        location / {
            tailor on;
            tailor_cookie tailor_vid max_age=0;
        }
    }
""", keys=keys.path))
    assert 'invalid max_age "0"' in refused_at(nginx, "max_age=0")


EVENTS_SERVER = """
    server {
        listen 127.0.0.1:{{PORT}};
        location / { tailor on; tailor_events on; }
    }
"""


@events
def test_a_zero_flush_interval_is_refused_at_its_line(nginx, keys):
    nginx.write(http(EVENTS_SERVER, keys=keys.path, redis="127.0.0.1:1",
                     extra="tailor_events_flush_interval 0;"))
    line = refused_at(nginx, "tailor_events_flush_interval 0;")
    assert '"tailor_events_flush_interval" must be > 0' in line


@events
@pytest.mark.parametrize("params", ["max_size=100k", "max_size=100m segment_size=1k",
                                    "segment_size=40m"])
def test_spool_sizes_that_do_not_fit_are_refused_at_the_spool_line(nginx, keys, params):
    # segment_size is weighed against max_size (or its default) once http{} is read;
    # the error still names the tailor_events_spool line, not the closing brace
    nginx.write(http(EVENTS_SERVER, keys=keys.path, redis="127.0.0.1:1",
                     extra="tailor_events_spool spool %s;" % params))
    line = refused_at(nginx, "tailor_events_spool spool")
    assert "segment_size must be at least 72k and at most half of max_size" in line


@events
def test_spool_sizes_that_fit_pass(nginx, keys):
    nginx.write(http(EVENTS_SERVER, keys=keys.path, redis="127.0.0.1:1",
                     extra="tailor_events_spool spool max_size=100m segment_size=1m;"))
    accepted(nginx)


@events
def test_tailor_events_on_where_tailor_is_off_warns_at_its_line(nginx, keys):
    nginx.write(http("""
    server {
        listen 127.0.0.1:{{PORT}};
        location / { tailor on; tailor_events on; }
        location /static/ {
            tailor_events on;
        }
    }
""", keys=keys.path, redis="127.0.0.1:1"))
    out = accepted(nginx)
    warn = [l for l in out.splitlines() if "[warn]" in l and "tailor_events on" in l]
    assert len(warn) == 1, out
    assert '"tailor_events on" has no effect where "tailor" is off' in warn[0]
    static = nginx.line_of("location /static/ {") + 1
    assert "%s:%d" % (nginx.conf_path, static) in warn[0], warn[0]


@events
def test_tailor_events_on_inherited_by_assets_and_a_beacon_does_not_warn(nginx, keys):
    # the shape of conf/tailor-site.conf: on for the server, tailor on for pages only
    rules = nginx.write_file("conf/rules.lua", b'local t = require "tailor"\n')
    nginx.write(http("""
    server {
        listen 127.0.0.1:{{PORT}};
        tailor_events on;
        location / { tailor on; }
        location ~* \\.css$ { tailor off; }
        location = /tailor/beacon { tailor_popup_beacon; tailor_events on; }
    }
""", keys=keys.path, redis="127.0.0.1:1", extra="tailor_rules %s;" % rules))
    out = accepted(nginx)
    assert "[warn]" not in out, out
