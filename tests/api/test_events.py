"""Events a client records (``ask``) through the facade and a real owner's socket: a detail
JSON cannot carry (NaN, Infinity) is refused whole, so every later export stays valid JSON."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from lifelog.api.client import OwnerError, find_owner
from lifelog.api.server import OwnerServer
from lifelog.api.timeline import LocalTimeline
from lifelog.daemon.ownership import OwnerLock
from lifelog.errors import UsageError
from lifelog.paths import Paths
from lifelog.store import Store

AT = datetime(2026, 11, 24, 10, 0)


@pytest.fixture
def owner(tmp_path):
    """A real owner serving a fresh timeline on its socket; yields (paths, store)."""
    home = Paths(tmp_path / "home").ensure()
    lock, store = OwnerLock(home, "test"), Store.open_owner(home.db)
    server = OwnerServer(home, LocalTimeline(home, store), lock.info).start()
    yield home, store
    server.stop()
    store.close()
    lock.release()


def _events(store: Store) -> list[dict]:
    with store.read() as r:
        return r.events_between(None, None)


def test_a_detail_json_cannot_carry_is_refused_and_nothing_stored(owner):
    paths, store = owner
    remote = find_owner(paths)
    for detail in ({"answer": float("nan")}, {"seconds": [1, float("inf")]}, {"a": {"b": -float("inf")}}):
        with pytest.raises(UsageError, match="Bad event detail: it holds"):
            LocalTimeline(paths, store).record_event("ask", detail, at=AT)
        with pytest.raises(OwnerError) as refused:  # the client sends NaN as Python's json writes it
            remote.record_event("ask", detail, at=AT)
        assert refused.value.exit_code == 2 and "Bad" in str(refused.value)
    remote.close()
    assert _events(store) == []


def test_a_finite_detail_is_kept_and_exports_as_valid_json(owner):
    paths, store = owner
    remote = find_owner(paths)
    remote.record_event("ask", {"question": "what?", "tokens": 1.5e300}, at=AT)
    export = remote.export_jsonl()
    try:
        lines = b"".join(export.chunks).decode().splitlines()
    finally:
        export.close()
        remote.close()
    assert export.rows["event"] == 1
    assert json.loads(lines[-1], parse_constant=lambda c: pytest.fail(c))["detail"]["tokens"] == 1.5e300
