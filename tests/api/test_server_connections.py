"""300 idle and half-sent connections against a real owner: a well-formed request is still
answered, and every one of them is closed after the header timeout (the half-sent ones told
why in the protocol's JSON). Once with the connection limit doing the work, once with the
owner's open-file limit at 128 and no connection limit, where accept() runs out of file
descriptors: the owner frees idle connections and says so in one line, not one a second. And a
client whose kept-alive connection was closed to make room carries on over a new one."""

from __future__ import annotations

import json
import resource
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lifelog.api.guard import Limits
from lifelog.api.protocol import PROTOCOL
from lifelog.paths import Paths
from tests.api.rawhttp import connect, exchange, parse, request, serving

ROOT = Path(__file__).resolve().parents[2]
HELD = 300
HALF_SENT = b"GET /v1/health HTTP/1.1\r\nHost: lifel"


@pytest.fixture(autouse=True)
def enough_fds():
    """This process holds 300 sockets at once."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2 * HELD:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _hold(socket_path) -> list:
    """300 connections, every other one with half a request head sent."""
    held = [connect(socket_path) for _ in range(HELD)]
    for sock in held[::2]:
        try:
            sock.sendall(HALF_SENT)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the owner already closed it to make room for a newer one: as it should
    return held


def _wait_closed(held: list, timeout: float = 30.0) -> dict:
    """What each held connection got before the owner closed it, once all are closed."""
    got = {sock: b"" for sock in held}
    open_ = set(held)
    deadline = time.monotonic() + timeout
    while open_ and time.monotonic() < deadline:
        ready, _, _ = select.select(list(open_), [], [], 0.5)
        for sock in ready:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            got[sock] += data
            if not data:
                open_.discard(sock)
    for sock in held:
        sock.close()
    assert not open_, f"{len(open_)} of {len(held)} connections still open after {timeout:g} s"
    return got


def _check(held: list, got: dict) -> None:
    for i, sock in enumerate(held):
        if i % 2 == 0 and got[sock]:  # half-sent: told why (an idle one is closed without a word)
            answer = parse(got[sock])
            assert answer.status == 408 and "not sent in time" in answer.error()["error"]
        elif i % 2:
            assert got[sock] == b""


def _healthy(socket_path) -> None:
    answer = exchange(socket_path, request("GET", f"/v{PROTOCOL}/health"), timeout=60)
    assert answer is not None and answer.status == 200 and json.loads(answer.body)["protocol"] == PROTOCOL


def test_300_idle_and_half_sent_connections_against_the_connection_limit(tmp_path):
    paths = Paths(tmp_path / "home").ensure()
    with serving(paths, Limits(max_connections=64, header_timeout_s=1.0, body_idle_s=1.0)) as server:
        held = _hold(server.socket)
        _healthy(server.socket)
        got = _wait_closed(held)
        _healthy(server.socket)
    _check(held, got)
    assert any(got[s] for s in held[::2])  # those read before they were closed were told 408


def test_300_connections_to_an_owner_out_of_file_descriptors(tmp_path):
    owner = subprocess.Popen(
        [sys.executable, "-m", "tests.api.lowfd_owner", str(tmp_path / "home"), "128", "100000"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        socket_path = owner.stdout.readline().strip()
        assert socket_path, owner.stderr.read()
        held = _hold(socket_path)
        _healthy(socket_path)
        got = _wait_closed(held)
        _healthy(socket_path)
    finally:
        owner.stdin.close()
        owner.wait(30)
    log = owner.stderr.read()
    assert owner.returncode == 0, log
    assert log.count("cannot accept connections") == 1, log  # out of fds: said once, not once a second
    assert "Too many open files" in log and "Traceback" not in log, log
    _check(held, got)


def test_a_client_whose_idle_connection_was_closed_to_make_room_carries_on(tmp_path, monkeypatch):
    from lifelog.api import client

    monkeypatch.setattr(client, "REUSE_IDLE_S", 0.05)
    paths = Paths(tmp_path / "home").ensure()
    with serving(paths, Limits(max_connections=2, header_timeout_s=5.0, body_idle_s=5.0)) as server:
        remote = client.RemoteTimeline(str(server.socket))
        try:
            assert remote.health()["protocol"] == PROTOCOL
            newcomers = [connect(server.socket) for _ in range(2)]  # the client's idle connection waited longest
            sock = remote._con.sock
            assert select.select([sock], [], [], 10)[0] and sock.recv(1, socket.MSG_PEEK) == b""  # closed by the owner
            time.sleep(0.1)
            assert remote.status()["frames_seen"] == 0  # a new connection, not "stopped answering"
        finally:
            remote.close()
            for sock in newcomers:
                sock.close()


def test_malformed_requests_are_answered_400_and_logged_once_a_minute_not_each(tmp_path, caplog):
    caplog.set_level("WARNING")
    paths = Paths(tmp_path / "home").ensure()
    with serving(paths) as server:
        for _ in range(40):
            answer = exchange(server.socket, b"\x16\x03\x01 not HTTP at all\r\n\r\n")
            assert answer.status == 400 and "Bad request" in answer.error()["error"]
        _healthy(server.socket)
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.error"]
    assert not any("Invalid HTTP request received" in line for line in lines), lines
    assert [line for line in lines if "malformed HTTP request" in line] == [
        "malformed HTTP request answered 400 (1 since the last such line, which comes at most once a minute)"
    ]
