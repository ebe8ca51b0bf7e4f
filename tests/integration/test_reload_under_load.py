# nginx -s reload under load fails no request: a bounded loop of requests in a
# few threads runs while nginx reloads several times; every response is a
# complete 200 with the expected body.

import threading

from env import IO_TIMEOUT, not_under_valgrind, wait_for
from visitor import new_vid
import scenario
from scenario import PAGE

THREADS = 4
PER_THREAD = 150
RELOADS = 3


def hammer(nginx, path, headers, check):
    failures, done = [], []
    lock = threading.Lock()
    stop = threading.Event()

    def loop():
        for _ in range(PER_THREAD):
            if stop.is_set():
                return
            try:
                r = nginx.get(path, headers=headers)
                problem = check(r)
            except Exception as e:   # a reset or a short read is a failed request
                problem = repr(e)
            with lock:
                done.append(1)
                if problem:
                    failures.append(problem)

    threads = [threading.Thread(target=loop) for _ in range(THREADS)]
    for t in threads:
        t.start()
    try:
        for _ in range(RELOADS):
            # reload only while requests are in flight
            wait_for(lambda: len(done) > 0 or not any(t.is_alive() for t in threads),
                     IO_TIMEOUT, "requests to run")
            nginx.reload()
    finally:
        for t in threads:
            t.join(timeout=120)
        stop.set()
    return failures, len(done)


@not_under_valgrind()
def test_reload_under_load_static(nginx_factory, keys):
    nginx = nginx_factory(worker_processes=2)
    scenario.start_shop(nginx, keys=keys.path)

    def check(r):
        if r.status != 200 or r.body != PAGE:
            return "status %d, %d bytes" % (r.status, len(r.body))
    failures, n = hammer(nginx, "/index.html", {}, check)
    assert n == THREADS * PER_THREAD
    assert not failures, failures[:5]


@not_under_valgrind()
def test_reload_under_load_personalized(nginx_factory, redis, keys, sign):
    nginx = nginx_factory(worker_processes=2)
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout="1s")
    headers = {"Cookie": "tailor_vid=" + sign(vid)}

    def check(r):
        if r.status != 200 or b"Hi Ann" not in r.body or not r.body.endswith(b"</html>\n"):
            return "status %d, %d bytes" % (r.status, len(r.body))
    failures, n = hammer(nginx, "/index.html", headers, check)
    assert n == THREADS * PER_THREAD
    assert not failures, failures[:5]
