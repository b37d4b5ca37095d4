"""The Parquet export's folder (``api/export_parquet.py``) fed export streams made by the JSONL
writer: days removed when they empty, an interrupted export leaves every day whole, and the
Markdown day log keeps stays short."""

from __future__ import annotations

import fcntl
import json
import os
from datetime import date, datetime, timedelta

import duckdb
import pytest

from lifelog.api import jsonl
from lifelog.api.export_markdown import MAX_LINES, day_log
from lifelog.api.export_parquet import LOCK, MANIFEST, Target, export_parquet, prepare
from lifelog.errors import UsageError

DAY1 = datetime(2026, 11, 29, 23, 59)


def _stream(rows: list[tuple[str, tuple]]) -> list[bytes]:
    head = jsonl.header_line({k: sum(r[0] == k for r in rows) for k in jsonl.KINDS}, None, None, DAY1)
    return [(head + "".join(jsonl.row_line(kind, row) for kind, row in rows)).encode()]


def _seen(ts: datetime, text: str, window: str = "notes") -> tuple[str, tuple]:
    return "seen", (ts, ts + timedelta(seconds=5), 0, "Code", window, text, 0, 0)


def _two_days() -> list[tuple[str, tuple]]:
    return [_seen(DAY1, "late at night"), _seen(DAY1 + timedelta(minutes=2), "after midnight")]


def _count(folder) -> list[tuple]:
    return (
        duckdb.connect()
        .execute(
            f"SELECT day::VARCHAR, count(*) FROM read_parquet('{folder}/*/seen.parquet', hive_partitioning=true) "
            "GROUP BY ALL ORDER BY ALL"
        )
        .fetchall()
    )


def _export(rows, folder, first=None, last=None) -> dict:
    prepare(folder)
    return export_parquet(_stream(rows), Target(folder, "me", "box"), first, last)


def test_rows_go_to_the_utc_day_they_start_in_and_an_emptied_day_is_removed(tmp_path):
    out = tmp_path / "out"
    report = _export(_two_days(), out)
    assert report["days_written"] == ["2026-11-29", "2026-11-30"]
    assert _count(out) == [("2026-11-29", 1), ("2026-11-30", 1)]
    # the second day forgotten: a re-export of a range holding it removes its folder
    report = _export(_two_days()[:1], out, date(2026, 11, 29), date(2026, 11, 30))
    assert (report["days_written"], report["days_unchanged"], report["days_removed"]) == ([], 1, ["2026-11-30"])
    assert _count(out) == [("2026-11-29", 1)]
    assert list(json.loads((out / MANIFEST).read_text())["days"]) == ["2026-11-29"]
    # a range that does not hold a day leaves it alone
    report = _export(_two_days()[1:], out, date(2026, 11, 30), None)
    assert report["days_written"] == ["2026-11-30"] and not report["days_removed"]
    assert _count(out) == [("2026-11-29", 1), ("2026-11-30", 1)]


def test_an_interrupted_export_leaves_every_day_whole(tmp_path):
    out = tmp_path / "out"
    _export(_two_days(), out)
    changed = [_seen(DAY1, "late at night, edited"), _seen(DAY1 + timedelta(minutes=2), "after midnight, edited")]

    def interrupted():
        yield from _stream(changed)  # day 1 is written when day 2's first line comes; day 2 is not yet
        raise KeyboardInterrupt

    prepare(out)
    with pytest.raises(KeyboardInterrupt):
        export_parquet(interrupted(), Target(out, "me", "box"), None, None)
    texts = duckdb.connect().execute(f"SELECT text FROM read_parquet('{out}/*/seen.parquet') ORDER BY 1").fetchall()
    assert texts == [("after midnight",), ("late at night, edited",)]  # day 1 new, day 2 as it was
    assert not list(tmp_path.glob(".*staging*")) and not list(out.glob(".*staging*"))
    report = export_parquet(_stream(changed), Target(out, "me", "box"), None, None)
    assert (report["days_written"], report["days_unchanged"]) == (["2026-11-30"], 1)


def test_prepare_refuses_a_folder_that_is_not_an_export(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty and holds no lifelog Parquet export"):
        prepare(tmp_path)


def test_the_day_log_lists_each_line_once_and_caps_a_long_stay():
    t = datetime(2026, 11, 29, 10, 0)
    rows = [_seen(t + timedelta(seconds=i), f"line {i % (MAX_LINES + 5)}") for i in range(3 * (MAX_LINES + 5))]
    rows.append(("heard", (t + timedelta(minutes=5), t + timedelta(minutes=6), "mic", "whisper", "<b>hello</b>")))
    rows.append(("seen", (t + timedelta(minutes=7), t, 0, "Code", "notes", "ends before it starts", 0, 0)))
    text, _ = day_log(_stream(rows))
    assert text.count("  - line 0\n") == 1
    assert "  - … 5 more lines (`lifelog context` shows them all)" in text
    assert "heard (microphone): &lt;b>hello&lt;/b>" in text
    assert "- 10:07 **Code** · notes\n  - ends before it starts\n" in text  # stored so: shown, not refused


def test_one_export_at_a_time_per_folder(tmp_path):
    out = tmp_path / "out"
    prepare(out)
    fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running export holds it
        with pytest.raises(UsageError, match="Another export is writing into"):
            export_parquet(_stream(_two_days()), Target(out, "me", "box"), None, None)
    finally:
        os.close(fd)
    assert not list(out.glob("day=*"))
    assert export_parquet(_stream(_two_days()), Target(out, "me", "box"), None, None)["days_written"]
