"""`lifelog index` embeds what is pending, with `lifelog status` showing the backlog before and after."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from lifelog.paths import Paths
from lifelog.store import Store
from lifelog.tokenize_media.embed import embedding_unavailable
from tests.cli.helpers import lifelog, lifelog_json
from tests.store.timeline_helpers import T0, frame, line, said


def test_index_embeds_the_backlog_that_status_shows(home):
    if embedding_unavailable():
        pytest.skip(embedding_unavailable())
    store = Store(Paths.from_env().db)
    with store.write() as w:
        for i in range(3):
            ts = T0 + timedelta(minutes=i)
            w.observe_lines(w.add_frame(frame(ts)), ts, 0, "Firefox", "Inbox", [line(f"invoice {i} overdue")])
        w.add_transcripts([said(0, 4, "call the supplier about the invoice")])
    env = {**os.environ, "LIFELOG_HOME": str(home)}
    status = lifelog_json("status", env=env)
    assert (status["embedding_backlog"], status["embedding_unavailable"]) == (4, None)
    assert "4 chunks waiting" in lifelog("status", env=env).stdout
    assert lifelog_json("index", env=env) == {"embedded": 4, "waiting": 0, "model": "e5-small-q4", "by_recorder": False}
    assert lifelog_json("status", env=env)["embedding_backlog"] == 0
    assert "Embedded 0 chunks" in lifelog("index", env=env).stderr
