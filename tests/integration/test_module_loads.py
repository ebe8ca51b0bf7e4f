# The built module loads into the stock nginx, passes nginx -t, leaves a static
# page alone, survives a reload, and reports a bad "tailor" value with file and line.

from env import module_has, not_under_valgrind
from tailorctl import KeyFile

PAGE = (b"<!doctype html>\n<html><head><title>plain</title></head>\n<body>\n"
        b"<tailor-slot name=\"hero\">Welcome, shopper</tailor-slot>\n"
        b"<p>" + b"x" * 5000 + b"</p>\n</body></html>\n")

HTTP = """
    {{KEYS_LINE}}

    server {
        listen 127.0.0.1:{{PORT}};
        server_name localhost;
        root html;

        location / {
            tailor {{TAILOR}};
        }
    }
"""


def serve_page(nginx, tailor="on"):
    nginx.write_file("html/index.html", PAGE)
    keys_line = ""
    if module_has("tailor_keys"):   # required next to "tailor on" once it exists
        keys = KeyFile(nginx.path("conf", "tailor.keys"))
        keys_line = "tailor_keys %s;" % keys.path
    nginx.write(HTTP, TAILOR=tailor, KEYS_LINE=keys_line)
    return nginx


def test_nginx_t_accepts_the_module(nginx):
    serve_page(nginx)
    rc, out = nginx.test_config()
    assert rc == 0, out
    assert "syntax is ok" in out and "test is successful" in out, out


def test_static_page_is_served_byte_for_byte(nginx):
    serve_page(nginx).start()
    r = nginx.get("/index.html")
    assert r.status == 200, r
    assert r.body == PAGE, "page body unchanged"
    assert r.header("Content-Length") == str(len(PAGE)), "Content-Length intact"
    assert r.header("Content-Type").startswith("text/html")


def test_head_of_static_page_is_headers_only(nginx):
    serve_page(nginx).start()
    r = nginx.get("/index.html", method="HEAD")
    assert r.status == 200
    assert r.body == b""
    assert r.header("Content-Length") == str(len(PAGE))


@not_under_valgrind()
def test_reload_keeps_serving(nginx):
    serve_page(nginx).start()
    before = set(nginx.workers())
    assert before, "a worker runs"
    for _ in range(3):
        nginx.reload()
        r = nginx.get("/index.html")
        assert r.status == 200 and r.body == PAGE, "served after reload"
    assert not (before & set(nginx.workers())), "workers were replaced"


def test_tailor_off_serves_the_same_page(nginx):
    serve_page(nginx, tailor="off").start()
    r = nginx.get("/index.html")
    assert r.status == 200 and r.body == PAGE


def test_invalid_flag_names_file_and_line(nginx):
    serve_page(nginx, tailor="maybe")
    rc, out = nginx.test_config()
    assert rc != 0, out
    line = nginx.line_of("tailor maybe;")
    assert 'invalid value "maybe"' in out, out
    assert '"tailor"' in out, out
    assert "%s:%d" % (nginx.conf_path, line) in out, "file and line named: " + out
    assert "[emerg]" in out
