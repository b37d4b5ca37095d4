"""The owner's background embedder: a real owner store, the real model, a short run."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest

from lifelog.daemon.embedding import EMBED_NICE, EmbedWorker
from lifelog.daemon.owner import embedder_waits
from lifelog.paths import Paths
from lifelog.store import Store
from lifelog.timespec import utcnow
from lifelog.tokenize_media.embed import DEFAULT, embedding_unavailable, get_embedder
from tests.store.timeline_helpers import frame, line, said
from tests.support.wait import wait_for


@pytest.fixture
def owner(tmp_path):
    if embedding_unavailable():
        pytest.skip(embedding_unavailable())
    store = Store.open_owner(tmp_path / "home" / "lifelog.duckdb")
    yield store
    store.close()


def record_minutes(store: Store, minutes: int) -> None:
    """Lines seen in ``minutes`` minutes an hour ago and a sentence heard, as the recorder stores them."""
    start = utcnow().replace(second=0, microsecond=0) - timedelta(hours=1)
    with store.write() as w:
        for i in range(minutes):
            ts = start + timedelta(minutes=i, seconds=10)
            fid = w.add_frame(frame(ts))
            w.observe_lines(fid, ts, 0, "Firefox", "Inbox", [line(f"message {i} about the quarterly budget")])
        w.add_transcripts([said(0, 5, "we still need to book the flights to Lisbon")])  # at tests' T0, long settled


def backlog(store: Store) -> int:
    with store.read() as r:
        return r.embedding_backlog(DEFAULT)


def test_the_worker_embeds_the_backlog_in_bounded_passes_at_the_lowest_priority(owner):
    record_minutes(owner, 5)
    assert backlog(owner) == 6
    seen_nice = []
    worker = EmbedWorker(
        owner,
        interval_s=0.2,
        per_pass=2,
        busy=lambda: seen_nice.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id())) or False,
    )
    worker.start()
    try:
        wait_for(lambda: backlog(owner) == 0, timeout=60, what="the embedding backlog to empty")
    finally:
        worker.stop()
    assert worker.embedded == 6 and worker.info()["error"] is None
    assert seen_nice and set(seen_nice) == {min(19, os.getpriority(os.PRIO_PROCESS, 0) + EMBED_NICE)}
    with owner.read() as r:
        hits = r.nearest_chunks(get_embedder().query("flights to Lisbon"), k=1)
    assert (hits[0].kind, hits[0].source) == ("heard", "mic")


def test_the_worker_waits_while_the_recorder_is_behind(owner):
    record_minutes(owner, 2)
    worker = EmbedWorker(owner, interval_s=0.1, busy=lambda: True).start()
    try:
        time.sleep(1.5)
    finally:
        worker.stop()
    assert worker.embedded == 0 and backlog(owner) == 3


def test_the_owner_keeps_the_embedder_waiting_while_its_file_is_rewritten(owner, tmp_path):
    paths = Paths(tmp_path / "home").ensure()
    assert not embedder_waits(owner, paths)  # an empty spool, no rewrite: it may run
    owner.rewriting = True  # as rewrite_store sets it for a forget (tests/store/test_live_rewrite.py)
    assert embedder_waits(owner, paths)


def test_without_the_model_the_worker_says_why_and_does_nothing(owner, monkeypatch):
    from lifelog.tokenize_media import embed

    monkeypatch.setitem(embed._EMBEDDERS, "absent", (embed.E5Small, "no_such_package_xyz"))
    worker = EmbedWorker(owner, embedder_id="absent").start()
    worker.stop()
    assert "lifelog[relevance]" in worker.info()["error"] and worker.embedded == 0
