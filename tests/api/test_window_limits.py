"""Windows the owner cannot hold are refused whole, in one line, and windows it can hold are
built however many clients ask at once: a real owner on a real socket over a real timeline,
and the real command."""

from __future__ import annotations

import json
import os
import threading

import pytest

from lifelog.api.client import OwnerError, _UnixConnection, find_owner
from lifelog.api.protocol import HEADER, PROTOCOL
from lifelog.api.server import OwnerServer
from lifelog.api.timeline import LocalTimeline
from lifelog.daemon.ownership import OwnerLock
from lifelog.errors import UsageError
from lifelog.paths import Paths
from lifelog.replay.context import MAX_BUDGET
from lifelog.store import Store
from tests.cli.helpers import lifelog
from tests.support.facts import T0, at, plant

RANGE = {"since": T0, "until": at(1, 0, 0)}
OVER = MAX_BUDGET + 1


@pytest.fixture(scope="module")
def owner(tmp_path_factory):
    """A real owner serving one planted day; yields its Paths."""
    paths = Paths(tmp_path_factory.mktemp("limits") / "home").ensure()
    plant(Store(paths.db), days=1)
    lock = OwnerLock(paths, "test")
    store = Store.open_owner(paths.db)
    server = OwnerServer(paths, LocalTimeline(paths, store), lock.info).start()
    yield paths
    server.stop()
    store.close()
    lock.release()


def _env(paths: Paths) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LIFELOG_")}
    return {**clean, "LIFELOG_HOME": str(paths.home)}


def _post(paths: Paths, body: bytes) -> tuple[int, dict]:
    con = _UnixConnection(str(paths.data / "lifelog.sock"), 30)
    try:
        con.request(
            "POST",
            f"/v{PROTOCOL}/context",
            body=body,
            headers={HEADER: str(PROTOCOL), "Content-Type": "application/json"},
        )
        resp = con.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        con.close()


def test_a_budget_over_the_limit_is_one_line_and_exit_2_alone_and_through_the_owner(tmp_path, owner):
    alone = Paths(tmp_path / "alone").ensure()
    for paths in (alone, owner):
        out = tmp_path / f"{paths.home.name}.md"
        proc = lifelog("context", "--budget", "1000M", "-o", str(out), env=_env(paths), check=False)
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1
        assert "1,000,000,000" in proc.stderr and f"{MAX_BUDGET:,}" in proc.stderr
        assert "Traceback" not in proc.stderr and not out.exists()  # nothing half-done


@pytest.mark.parametrize(
    "body",
    [
        b'{"budget": 10000001}',
        b'{"budget": 1e400}',
        b'{"budget": 1000000000000000000000000}',
        b"[]",
        b"{}",
        b'{"budget": "8000"}',
        b'{"budget": true}',
        b'{"budget": 0}',
        b'{"budget": 8000, "images": "8"}',
        b'{"budget": 8000, "query": ["x"]}',
        b'{"budget": 8000, "format": "pdf"}',
    ],
)
def test_the_owner_refuses_a_bad_context_request_with_a_400_json_error(owner, body):
    status, detail = _post(owner, body)
    assert status == 400 and detail["exit_code"] == 2 and detail["error"]


def test_a_search_limit_over_the_cap_is_refused_alone_and_by_the_owner(owner):
    remote = find_owner(owner)
    try:
        with pytest.raises(OwnerError, match="1 to 1000") as refused:
            remote.search("alpha", limit=10**9)
        assert refused.value.exit_code == 2
        assert isinstance(remote.search("alpha", limit=1000), list)
    finally:
        remote.close()
    local = LocalTimeline(owner, Store(owner.db))
    with pytest.raises(UsageError, match="1 to 1000"):
        local.search("alpha", limit=1001)


def test_the_largest_budget_still_gives_a_small_timeline_whole(owner):
    remote = find_owner(owner)
    try:
        window = remote.context(**RANGE, budget=MAX_BUDGET)
    finally:
        remote.close()
    assert window.omitted_lines == 0 and 0 < window.tokens <= MAX_BUDGET and window.lines > 100
    with pytest.raises(OwnerError, match="over the largest window"):
        find_owner(owner).context(**RANGE, budget=OVER)


def test_ten_clients_asking_for_the_largest_windows_at_once_are_all_answered_or_told_busy(owner):
    remote = find_owner(owner)
    expected = remote.context(**RANGE, budget=MAX_BUDGET).text
    results: list[str] = []
    start = threading.Barrier(10)

    def ask():
        client = find_owner(owner)
        start.wait()
        try:
            results.append("same" if client.context(**RANGE, budget=MAX_BUDGET).text == expected else "different")
        except OwnerError as exc:
            results.append("busy" if "busy" in str(exc) and exc.exit_code == 1 else f"error: {exc}")
        finally:
            client.close()

    threads = [threading.Thread(target=ask) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 10 and set(results) <= {"same", "busy"} and "same" in results, results
    assert remote.health()["pid"] == os.getpid() and remote.context(**RANGE, budget=8000).tokens <= 8000
    remote.close()
