"""The owner's rewrite while it keeps writing (``store/live_copy.py``): the copy is made from a
snapshot, what was written meanwhile is caught up under the lock, and the file swapped in
holds exactly the live rows and none of what a forget deleted; a kill at any step leaves the
timeline whole."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lifelog.errors import Stale
from lifelog.store import Store, live_copy, rewrite
from lifelog.store.forget import Selection, forget_in
from tests.store.timeline_helpers import SRC, at, frame, line
from tests.support.forgettable import SECRET, bytes_of, plant, write_meanwhile


def _tables(store) -> dict[str, list[tuple]]:
    """Every table's rows, sorted, and every sequence's next value (drawn: harmless gaps)."""
    with store.read() as r:
        names = [
            n
            for (n,) in r._con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name ="
                " current_database() AND NOT temporary ORDER BY 1"
            ).fetchall()
        ]
        return {n: r._con.execute(f'SELECT * FROM "{n}" ORDER BY ALL').fetchall() for n in names}


@pytest.fixture
def owner(db_path):
    Store(db_path).migrate()
    owner = Store.open_owner(db_path)
    yield owner
    owner.close()


def test_writes_during_the_copy_are_in_the_file_swapped_in(owner, db_path):
    plant(owner)
    forget_in(owner, Selection(matching=SECRET))
    live: list[dict] = []

    def meanwhile():
        assert owner.rewriting  # the background embedder waits (daemon/owner.py: embedder_waits)
        write_meanwhile(owner, 0)
        live.append(_tables(owner))

    rewrite.rewrite_store(owner, meanwhile=meanwhile)
    assert not owner.rewriting
    assert len(live) == 1  # caught up on the first copy
    assert _tables(owner) == live[0]
    assert bytes_of(db_path, "zebrafinch") == 0
    assert not rewrite.temp_path(db_path).exists()
    with owner.write() as w:  # the sequences went on past what was written during the copy
        fid = w.add_frame(frame(at(900)))
        w.observe_lines(fid, at(900), 0, "Firefox", "Inbox", [line("after the swap")])
    with owner.read() as r:
        ids = r._con.execute("SELECT id FROM frames ORDER BY id").fetchall()
        assert len(ids) == len(set(ids)) and ids[-1][0] == fid
        assert [h.span.text for h in r.search("written during copy") if h.span] == ["written during copy 0"]
        assert [h.transcript.text for h in r.search("heard during copy") if h.transcript] == ["heard during copy 0"]
        assert r.search("zebrafinch") == []


def test_a_copy_that_cannot_be_caught_up_is_made_again_then_under_the_lock(owner, db_path, monkeypatch):
    """A change the delta cannot carry (here every change, with WHOLE_ROWS 0): the copy is
    thrown away and made again, and at last under the lock; the result is the same."""
    monkeypatch.setattr(live_copy, "WHOLE_ROWS", 0)
    plant(owner)
    forget_in(owner, Selection(matching=SECRET))
    live: list[dict] = []

    def meanwhile():
        write_meanwhile(owner, len(live))
        live.append(_tables(owner))

    rewrite.rewrite_store(owner, meanwhile=meanwhile)
    assert len(live) == rewrite.LIVE_TRIES
    assert _tables(owner) == live[-1]
    assert bytes_of(db_path, "zebrafinch") == 0
    assert not rewrite.temp_path(db_path).exists()


def test_the_plan_names_what_changed_and_refuses_what_it_cannot_carry():
    marks = live_copy.Marks(
        rows={
            "frames": 10,
            "text_spans": 10,
            "hour_seen": 5,
            "text_spans_postings": 500_000,
            "text_spans_postings_tail": 20,
        },
        max_id={"frames": 10, "text_spans": 10},
        indexed={"text_spans_postings": 10, "text_spans_postings_tail": 10},
    )
    assert live_copy.plan(
        [
            "SELECT 1",
            "CREATE OR REPLACE TEMP TABLE forget_spans AS SELECT id FROM text_spans",
            "INSERT INTO frames (ts) VALUES (?) RETURNING id",
            "UPDATE text_spans SET open = false, t_end = greatest(t_end, ?) WHERE open",
            "INSERT INTO text_spans_postings_tail SELECT term, doc FROM _lifelog_new_postings",
            "DELETE FROM hour_seen WHERE hour = ?",
            "DROP TABLE IF EXISTS temp.forget_spans",
        ],
        marks,
    ) == {"frames": "ids", "text_spans": "open", "text_spans_postings_tail": "postings", "hour_seen": "whole"}
    for stale in (
        "DELETE FROM text_spans WHERE t_start < ?",  # retention on a large table
        "INSERT INTO text_spans_postings SELECT * FROM text_spans_postings_tail ORDER BY term, doc",
        "ALTER TABLE frames ADD COLUMN x INTEGER",
        "CREATE TABLE new_one (a INTEGER)",
    ):
        big = live_copy.Marks(**{**marks.__dict__, "rows": {**marks.rows, "text_spans": 10**6}})
        with pytest.raises(Stale):
            live_copy.plan([stale], big)


_KILLED = """
import sys
from lifelog.store import Store, rewrite
from lifelog.store.forget import Selection, forget_in
from tests.support.forgettable import SECRET, plant, write_meanwhile
owner = Store.open_owner(sys.argv[1])
plant(owner)
forget_in(owner, Selection(matching=SECRET))
write_meanwhile(owner, 0)
rewrite.rewrite_store(owner, meanwhile=lambda: write_meanwhile(owner, 1))
"""


@pytest.mark.parametrize("step", ["copy", "catch_up", "swap"])
def test_a_kill_at_any_step_of_a_live_rewrite_leaves_the_timeline_whole(db_path, step):
    Store(db_path).migrate()
    root = str(SRC.parent)
    env = {**os.environ, rewrite.DIE_AT_ENV: step, "PYTHONPATH": os.pathsep.join([str(SRC), root])}
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED, str(db_path)],
        check=False,
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == 9, killed.stderr
    owner = Store.open_owner(db_path)  # the next start: a copy left behind is removed
    try:
        from lifelog.api.forget import finish_pending
        from lifelog.paths import Paths

        finish_pending(Paths(home=db_path.parent), owner)
        assert not rewrite.temp_path(db_path).exists()
        with owner.read() as r:
            assert (
                r.search("zebrafinch") == [] and len(r.search("quokka")) == 3
            )  # two planted, one written before the rewrite
            during = sorted(h.span.text for h in r.search("written during copy") if h.span)
        # the kill came before the second writes ("copy") or after they were committed
        assert during == ["written during copy 0"] + ([] if step == "copy" else ["written during copy 1"])
    finally:
        owner.close()
