"""Digests and lessons through ``lifelog export`` / ``lifelog import`` for real (issue 22 part 5):
the CLI in subprocesses on DuckDB files in private homes. Carried digests are kept where they
still say what the merged timeline holds and made again where they do not; lessons are merged
by text, so a second import adds nothing; the Parquet and Markdown exports leave them out."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

from lifelog.store import Store
from tests.cli.helpers import lifelog, lifelog_json
from tests.support.deploys import T0, deploys
from tests.support.writes import show

LESSONS = ["Raise the lock timeout before a long migration.", "Run make deploy only once CI is green."]


def _env(home: Path) -> dict:
    return {**os.environ, "LIFELOG_HOME": str(home), "LIFELOG_AUDIO_SOURCE": "none"}


def _body(path: Path) -> tuple[dict, list[dict]]:
    head, *rows = path.read_text(encoding="utf-8").splitlines()
    return json.loads(head), [json.loads(r) for r in rows]


def _digested(home: Path) -> Path:
    """The deploys timeline, digested, with two lessons kept, exported."""
    deploys(home)
    assert lifelog_json("digest", "--json", env=_env(home))["hours"] == 4
    for text in LESSONS:
        lifelog("lessons", "add", text, env=_env(home))
    out = home.parent / f"{home.name}.jsonl"
    proc = lifelog("export", "-o", str(out), env=_env(home))
    assert "(9 seen, 0 heard, 0 events, 7 digests, 2 lessons)" in proc.stderr
    return out


def test_digests_and_lessons_round_trip_and_a_second_import_adds_nothing(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    first = _digested(a)
    head, rows = _body(first)
    assert head["rows"] == {"seen": 9, "heard": 0, "event": 0, "digest": 7, "lesson": 2}
    kinds = [r["type"] for r in rows]
    assert kinds == ["seen"] * 9 + ["digest"] * 7 + ["lesson"] * 2  # after the timeline's lines
    digests = [(r["start"][:13], r["level"]) for r in rows if r["type"] == "digest"]
    assert digests == [  # by start; on a tie, hour before day before week
        ("2026-11-02T00", "day"),
        ("2026-11-02T00", "week"),
        ("2026-11-02T09", "hour"),
        ("2026-11-02T10", "hour"),
        ("2026-11-03T00", "day"),
        ("2026-11-03T09", "hour"),
        ("2026-11-03T10", "hour"),
    ]

    report = lifelog_json("import", str(first), env=_env(b))[0]
    assert report["read"] == report["inserted"] == {"seen": 9, "heard": 0, "event": 0, "digest": 7, "lesson": 2}
    assert report["stale_digests"] == 0
    assert lifelog_json("digest", "--json", env=_env(b))["hours"] == 0  # carried, not made again
    again = lifelog("import", str(first), env=_env(b))
    assert "0 new (0 seen, 0 heard, 0 events), 18 already there" in again.stderr
    assert [x["text"] for x in lifelog_json("lessons", "--json", env=_env(b))] == LESSONS

    second = tmp_path / "second.jsonl"
    lifelog("export", "-o", str(second), env=_env(b))
    assert _body(second)[1] == rows  # the same lines: digests as made there, with when they were made

    day_log = lifelog("export", "--format", "markdown", env=_env(b)).stdout
    assert "Runbook step 0" in day_log and LESSONS[0] not in day_log and "windows:" not in day_log
    parquet = lifelog("export", "--format", "parquet", "-o", str(tmp_path / "pq"), env=_env(b))
    assert "9 seen, 0 heard, 0 events" in parquet.stderr


def test_a_digest_whose_hour_holds_other_lines_here_is_left_out_and_made_again(tmp_path):
    a, c = tmp_path / "a", tmp_path / "c"
    exported = _digested(a)
    with Store(c / "lifelog.duckdb").write() as w:  # this machine saw something else in the first hour
        show(w, T0 + timedelta(minutes=40), "Slack", "#ops", ["Dana: rollback of deploy 0 done"])
        w.close_spans(T0 + timedelta(minutes=41))
    report = lifelog_json("import", str(exported), env=_env(c))[0]
    # the first hour, its day and its week say less than this timeline holds: left out
    assert (report["inserted"]["digest"], report["stale_digests"], report["inserted"]["lesson"]) == (4, 3, 2)
    proc = lifelog("import", str(exported), env=_env(c))
    assert "3 digests left out (made again from the lines here)" in proc.stderr
    made = lifelog_json("digest", "--json", env=_env(c))
    assert (made["hours"], made["days"], made["weeks"]) == (1, 1, 1)
    hour = lifelog_json("digests", "--since", "2026-11-02T09:00Z", "--until", "2026-11-02T10:00Z", env=_env(c))
    assert [d["level"] for d in hour] == ["hour"] and "rollback of deploy 0" in hour[0]["text"]
