"""The owner's HTTP API fuzzed over its real Unix socket (Hypothesis): random methods, paths,
query strings, bodies, types, sizes and truncated requests to a real owner over a real DuckDB
file. Bad input is never answered 5xx and never with anything but the protocol's JSON error,
and the owner still answers /health afterwards. The client turns any error, JSON or not, into
one line."""

from __future__ import annotations

import json
import select
import socketserver
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifelog.api.calls import CALLS
from lifelog.api.client import OwnerError, RemoteTimeline
from lifelog.api.guard import Limits
from lifelog.api.protocol import HEADER, PROTOCOL
from lifelog.api.server import OwnerServer
from lifelog.api.timeline import LocalTimeline
from lifelog.daemon.ownership import OwnerLock
from lifelog.paths import Paths
from lifelog.store import Store
from tests.api.rawhttp import connect, exchange, parse, read_all, request, serving

V = f"/v{PROTOCOL}"
FIELDS = {
    c.path: [p.key for p in c.params]
    for c in CALLS.values()  # every call with a JSON body, as declared
    if c.method == "POST" and all(c.where(p) == "body" for p in c.params)
}
GETS = ["/health", *(c.path for c in CALLS.values() if c.method == "GET")]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**310)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["2026-11-24T10:00:00", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1e400", "-1"])
)
values = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3),
    max_leaves=8,
)


@st.composite
def bodies(draw, call: str) -> bytes:
    """A body for ``call``: its own fields with values of any type, any JSON, or any bytes."""
    kind = draw(st.sampled_from(["fields", "json", "bytes", "numbers", "deep"]))
    if kind == "fields":
        names = draw(st.lists(st.sampled_from(FIELDS.get(call) or ["x"]), unique=True))
        body = {n: draw(values) for n in names}
        if call == "/forget":
            body["dry_run"] = True  # what would go, never a rewrite of the file per example
        return json.dumps(body).encode()
    if kind == "json":
        return json.dumps(draw(values)).encode()
    if kind == "numbers":
        return draw(
            st.sampled_from(
                [
                    b'{"budget":1e400}',
                    b'{"budget":-1e400}',
                    b'{"budget":NaN}',
                    b'{"seconds":1e400}',
                    b'{"budget":' + b"9" * 5000 + b"}",
                    b'{"seconds":-0.0}',
                    b"[]",
                    b"null",
                    b'""',
                ]
            )
        )
    if kind == "deep":
        depth = draw(st.integers(min_value=100, max_value=100_000))
        return b"[" * depth + b"]" * depth
    return draw(st.binary(max_size=300))


@st.composite
def requests(draw) -> tuple[str, bytes]:
    """Mostly a known call with its method and header (so the body reaches the route), else anything."""
    call = draw(st.sampled_from([*FIELDS, *GETS]))
    method = "POST" if call in FIELDS else "GET"
    headers = {HEADER: str(PROTOCOL)}
    if draw(st.integers(0, 4)) == 0:
        method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]))
        call = draw(st.sampled_from([call, "/"]) | st.text(max_size=20).map(lambda t: "/" + urllib.parse.quote(t)))
        headers = draw(st.sampled_from([{}, {HEADER: "999"}, {"Content-Type": "text/plain"}]))
    params = draw(
        st.dictionaries(
            st.sampled_from(sorted({p.key for c in CALLS.values() for p in c.params} | {"x"})),
            st.text(max_size=12) | st.integers().map(str) | scalars.map(json.dumps),
            max_size=3,
        )
    )
    target = f"{V}{call}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    return method, request(method, target, draw(bodies(call)), headers)


@pytest.fixture(scope="module")
def owner(tmp_path_factory):
    paths = Paths(tmp_path_factory.mktemp("fuzz") / "home").ensure()
    with serving(paths, Limits(header_timeout_s=1.0, body_idle_s=1.0)) as server:
        yield server


def _healthy(owner) -> None:
    answer = exchange(owner.socket, request("GET", f"{V}/health"))
    assert answer.status == 200 and json.loads(answer.body)["protocol"] == PROTOCOL


@FUZZ
@given(requests())
def test_bad_input_is_a_json_4xx_never_a_5xx(owner, req):
    _, data = req
    answer = exchange(owner.socket, data)
    assert answer is not None, data[:200]
    assert answer.status < 500, (data[:300], answer)
    if answer.status >= 400:
        answer.error()


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_requests_cut_anywhere_leave_the_owner_answering(owner, data):
    whole = request(
        "POST", f"{V}/context", json.dumps({"budget": 2000, "format": "markdown"}).encode(), {HEADER: str(PROTOCOL)}
    )
    cut = data.draw(st.integers(min_value=1, max_value=len(whole) - 1))
    with connect(owner.socket) as sock:
        sock.sendall(whole[:cut])  # and hang up
    _healthy(owner)


def test_the_owner_answers_health_after_the_fuzzing(owner):
    _healthy(owner)


def test_a_half_sent_request_is_answered_408_and_closed_after_the_timeout(owner):
    head = exchange(owner.socket, b"GET /v1/health HTTP/1.1\r\nHost: lif")
    body = exchange(owner.socket, b'POST /v1/event HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"kind": ')
    assert head.status == 408 and "not sent in time" in head.error()["error"]
    assert body.status == 408 and "stopped arriving" in body.error()["error"]


def test_bodies_over_their_cap_are_413_read_or_declared(owner):
    big = request("POST", f"{V}/event", b"[" + b" " * (2 * 1024 * 1024) + b"]")
    declared = b"POST /v1/context HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n"
    chunked = (
        b"POST /v1/pause HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + b"100000\r\n"
        + b" " * 0x100000
        + b"\r\n"
        + b"10\r\n"
        + b" " * 16
        + b"\r\n0\r\n\r\n"
    )
    for data in (big, declared, chunked):
        answer = exchange(owner.socket, data)
        assert answer.status == 413 and "over its limit" in answer.error()["error"]


def test_a_request_head_over_h11s_limit_is_a_json_400(owner):
    answer = exchange(owner.socket, b"GET /v1/health HTTP/1.1\r\nX-Big: " + b"a" * 200_000)
    assert answer.status == 400 and answer.error()["exit_code"] == 2


def test_a_large_upload_to_import_jsonl_is_not_refused_by_the_json_cap(owner):
    lines = b"".join(b'{"type": "span", "n": %d, "pad": "%s"}\n' % (i, b"x" * 200) for i in range(12_000))  # 2.7 MB
    answer = exchange(owner.socket, request("POST", f"{V}/import-jsonl?name=big.jsonl", lines, {HEADER: str(PROTOCOL)}))
    assert answer.status != 413 and answer.status < 500
    answer.error()  # not a lifelog export: refused by the import's own check, in one line


def test_the_client_turns_an_owners_error_into_one_line(owner):
    remote = RemoteTimeline(str(owner.socket))
    try:
        with pytest.raises(OwnerError) as budget:
            remote.context(since=None, until=None, budget=float("inf"))
        with pytest.raises(OwnerError) as seconds:
            remote.pause("ten minutes")
        assert remote.health()["protocol"] == PROTOCOL  # the same client carries on
    finally:
        remote.close()
    assert budget.value.exit_code == 2 and "budget" in str(budget.value)
    assert seconds.value.exit_code == 2 and "seconds" in str(seconds.value)


class _NotAnOwner(BaseHTTPRequestHandler):
    """Answers like a broken server: a plain-text 500, or a 200 that is not JSON."""

    def do_GET(self):
        status, body = (500, b"Internal Server Error") if "status" in self.path else (200, b"<html>hello</html>")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        sock, _ = super().get_request()
        return sock, ("lifelog", 0)  # BaseHTTPRequestHandler wants an address pair


def test_the_client_says_one_line_when_the_answer_is_not_the_protocols(tmp_path):
    path = tmp_path / "s.sock"
    server = _UnixHTTPServer(str(path), _NotAnOwner)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    remote = RemoteTimeline(str(path))
    try:
        with pytest.raises(OwnerError) as plain_500:
            remote.status()
        with pytest.raises(OwnerError) as not_json:
            remote.health()
    finally:
        remote.close()
        server.shutdown()
        server.server_close()
    assert "HTTP 500" in str(plain_500.value) and plain_500.value.exit_code == 1
    assert "not JSON" in str(not_json.value)


class _FailingTimeline(LocalTimeline):
    """Fault injection: a status call that fails the way no input should make it."""

    def answer_status(self):
        raise RuntimeError("simulated failure\nwith a second line")


def test_an_unexpected_failure_is_a_json_500_in_one_line_logged_once(tmp_path, caplog):
    paths = Paths(tmp_path / "home").ensure()
    lock = OwnerLock(paths, "test")
    store = Store.open_owner(paths.db)
    server = OwnerServer(paths, _FailingTimeline(paths, store), lock.info).start()
    try:
        answer = exchange(server.socket, request("GET", f"{V}/status"))
        _healthy(server)
    finally:
        server.stop()
        store.close()
        lock.release()
    assert answer.status == 500
    assert "RuntimeError: simulated failure with a second line" in answer.error()["error"]
    logged = [r for r in caplog.records if r.exc_info and "simulated failure" in str(r.exc_info[1])]
    assert len(logged) == 1 and logged[0].levelname == "ERROR"


def test_a_body_trickled_slower_than_its_timeout_is_408(tmp_path, monkeypatch):
    from lifelog.api import http_errors

    monkeypatch.setattr(http_errors, "BODY_TIMEOUT_S", 1.0)
    paths = Paths(tmp_path / "home").ensure()
    with serving(paths, Limits(header_timeout_s=5.0, body_idle_s=5.0)) as server, connect(server.socket) as sock:
        sock.sendall(b"POST /v1/event HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
        answer = b""
        for _ in range(10):  # a byte every 0.3 s: never idle for long, never done
            sock.sendall(b" ")
            if select.select([sock], [], [], 0.3)[0]:
                answer = read_all(sock)
                break
    assert parse(answer).status == 408 and "did not arrive within 1 s" in parse(answer).error()["error"]
