"""``lifelog export --format parquet`` and ``--format markdown`` for real: timelines written
through the store's writer into DuckDB files in private homes, the CLI in subprocesses, the
Parquet read back by DuckDB, once through an owner serving the home's socket."""

from __future__ import annotations

import getpass
import json
import os
import socket
import stat
from pathlib import Path

import duckdb

from lifelog.api import jsonl
from lifelog.paths import Paths
from lifelog.store import Store
from tests.api.serving import served
from tests.cli.helpers import lifelog
from tests.store.timeline_helpers import at, observe, said

NEXT_DAY = 86_400  # seconds: at(NEXT_DAY + s) is the next UTC day (T0 is 2026-03-02 09:00 UTC)
SEEN = ["seen", "t_start", "t_end", "monitor", "app", "window", "text", "top", "left", "ord", "lead"]


def _env(home: Path) -> dict:
    return {**os.environ, "LIFELOG_HOME": str(home), "LIFELOG_AUDIO_SOURCE": "none"}


def _recorded(home: Path, words: str = "ticket") -> None:
    """Two UTC days as the recorder writes them: lines seen (one repeated in place, one seen
    again in a second window), speech, a pause and a question asked."""
    with Store(home / "lifelog.duckdb").write() as w:
        w.add_event(at(0), "record_start", {"fps": 2.0})
        observe(w, at(0.5), [f"{words} 101 ready for review", "OK", "OK", "naïve café — 周五 15:00", "# not a heading"])
        observe(w, at(1.0), [f"{words} 101 ready for review", f'{words} 102 "quoted"'], app="XTerm")
        w.add_transcripts([said(0.7, 2.5, f"please look at {words} 101", source="system")])
        w.add_event(at(3), "gap", {"reason": "paused", "until": at(1800).isoformat()})
        w.add_event(at(1900), "ask", {"question": "what?", "answer": "that.", "model": "local"})
        observe(w, at(3700), [f"{words} 103 merged"], app="XTerm")
        w.close_spans(at(3800))
        observe(w, at(NEXT_DAY + 30), ["the next day's line"])
        w.close_spans(at(NEXT_DAY + 60))


def _jsonl_rows(home: Path) -> dict[str, list[tuple]]:
    """The timeline as ``lifelog export`` (JSONL) gives it: parsed rows per kind, in order."""
    text = lifelog("export", env=_env(home)).stdout
    rows: dict[str, list[tuple]] = {k: [] for k in jsonl.KINDS}
    for line in text.splitlines()[1:]:
        kind, row = jsonl.parse_row(json.loads(line))
        rows[kind].append(row)
    return rows


def _parquet_rows(folder: Path | str, where: str = "") -> dict[str, list[tuple]]:
    """What DuckDB reads back from an export folder, per kind, as the JSONL rows are."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    queries = {
        "seen": 't_start::TIMESTAMP, t_end::TIMESTAMP, monitor, app, "window", text, top, "left", ord, lead',
        "heard": "t_start::TIMESTAMP, t_end::TIMESTAMP, source, engine, text, language, speaker",
        "event": "ts::TIMESTAMP, kind, detail::VARCHAR",
    }
    files = {"seen": "seen", "heard": "heard", "event": "events"}
    out = {}
    for kind, cols in queries.items():
        sql = f"SELECT {cols} FROM read_parquet('{folder}/*/{files[kind]}.parquet', hive_partitioning=true) {where}"
        out[kind] = con.execute(sql).fetchall()
    out["event"] = [(ts, k, None if d == "{}" else d) for ts, k, d in out["event"]]
    return out


def _same_details(rows: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Event details compared as objects (the JSONL reader and DuckDB space them differently)."""
    return {**rows, "event": [(ts, k, d and json.loads(d)) for ts, k, d in rows["event"]]}


def _day_files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_ino for p in sorted(folder.glob("day=*/*.parquet"))}


def test_parquet_reads_back_as_the_timeline_row_for_row_and_a_rerun_writes_nothing(tmp_path):
    home, out = tmp_path / "home", tmp_path / "timeline"
    _recorded(home)
    proc = lifelog("export", "--format", "parquet", "-o", str(out), env=_env(home))
    assert (
        "Wrote 2 days (UTC) to" in proc.stderr and "2026-03-02 … 2026-03-03, 8 seen, 1 heard, 3 events" in proc.stderr
    )
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "_lifelog_export.json",
        "day=2026-03-02",
        "day=2026-03-03",
    ]
    assert sorted(p.name for p in (out / "day=2026-03-03").iterdir()) == [
        "events.parquet",
        "heard.parquet",
        "seen.parquet",
    ]
    assert _same_details(_parquet_rows(out)) == _same_details(_jsonl_rows(home))
    assert not list(tmp_path.glob(".*staging*"))  # the staging folder is gone

    con = duckdb.connect()
    typed = con.execute(
        f"SELECT typeof(day), typeof(t_start), typeof(monitor), any_value(person), any_value(machine) "
        f"FROM read_parquet('{out}/*/seen.parquet', hive_partitioning=true) GROUP BY ALL"
    ).fetchall()
    assert typed == [("DATE", "TIMESTAMP WITH TIME ZONE", "INTEGER", getpass.getuser(), socket.gethostname())]
    paused = con.execute(
        f"SELECT detail->>'reason' FROM read_parquet('{out}/*/events.parquet') WHERE kind = 'gap'"
    ).fetchall()
    assert paused == [("paused",)]
    every = con.execute(
        f"SELECT count(*) FROM read_parquet('{out}/**/*.parquet', hive_partitioning=true, union_by_name=true)"
    ).fetchone()
    assert every == (12,)

    before = _day_files(out)
    again = lifelog("export", "--format", "parquet", "-o", str(out), env=_env(home))
    assert "Nothing new or changed in" in again.stderr and "2 days unchanged" in again.stderr
    assert _day_files(out) == before  # the same files: nothing was replaced


def test_a_changed_day_is_rewritten_alone_and_a_forgotten_day_removed(tmp_path):
    home, out = tmp_path / "home", tmp_path / "timeline"
    _recorded(home)
    lifelog("export", "-f", "parquet", "-o", str(out), env=_env(home))
    before = _day_files(out)

    added = tmp_path / "added.jsonl"
    row = {"type": "heard", "t_start": "2026-03-03T10:00:00Z", "t_end": "2026-03-03T10:00:02Z", "source": "mic"}
    added.write_text(
        json.dumps({"lifelog": "timeline", "version": 1}) + "\n" + json.dumps({**row, "text": "hi"}) + "\n"
    )
    lifelog("import", str(added), env=_env(home))
    proc = lifelog("export", "-f", "parquet", "-o", str(out), env=_env(home))
    assert "Wrote 1 day (UTC) to" in proc.stderr and ": 2026-03-03, 1 seen, 1 heard, 0 events" in proc.stderr
    assert "1 day unchanged" in proc.stderr
    after = _day_files(out)
    assert {k: v for k, v in after.items() if "03-02" in k} == {k: v for k, v in before.items() if "03-02" in k}
    assert all(after[k] != before[k] for k in after if "03-03" in k)
    assert _same_details(_parquet_rows(out)) == _same_details(_jsonl_rows(home))

    lifelog("forget", "--since", "2026-03-03T00:00Z", "--until", "2026-03-04T00:00Z", "--yes", env=_env(home))
    proc = lifelog("export", "-f", "parquet", "-o", str(out), env=_env(home))
    assert "Wrote 1 day (UTC) to" in proc.stderr and ": 2026-03-03, 0 seen, 0 heard" in proc.stderr
    assert _same_details(_parquet_rows(out)) == _same_details(_jsonl_rows(home))  # what was forgotten is gone
    assert "the next day's line" not in {r[5] for r in _parquet_rows(out)["seen"]}


def test_a_range_is_widened_to_whole_utc_days(tmp_path):
    home, out = tmp_path / "home", tmp_path / "timeline"
    _recorded(home)
    lifelog("export", "-f", "parquet", "--since", "2026-03-02T09:30Z", "--until", "2026-03-02T09:31Z", "-o", str(out),
            env=_env(home))  # fmt: skip
    assert sorted(p.name for p in out.glob("day=*")) == ["day=2026-03-02"]
    whole = _parquet_rows(out)
    assert len(whole["seen"]) == 7 and len(whole["event"]) == 3  # the whole day, not the minute asked for


def test_two_homes_exports_read_together_with_one_query(tmp_path):
    team = tmp_path / "team"
    for person, words in (("alice", "ticket"), ("bob", "invoice")):
        home = tmp_path / person
        _recorded(home, words=words)
        lifelog("export", "-f", "parquet", "--person", person, "--machine", f"{person}-laptop", "-o",
                str(team / person), env=_env(home))  # fmt: skip
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT person, machine, day, count(*) FROM read_parquet('{team}/*/*/seen.parquet', "
            "hive_partitioning=true) GROUP BY ALL ORDER BY ALL"
        )
        .fetchall()
    )
    days = [r[2].isoformat() for r in rows]
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("alice", "alice-laptop", 7),
        ("alice", "alice-laptop", 1),
        ("bob", "bob-laptop", 7),
        ("bob", "bob-laptop", 1),
    ]
    assert days == ["2026-03-02", "2026-03-03"] * 2


def test_export_through_a_running_owner(tmp_path):
    home, out = tmp_path / "home", tmp_path / "timeline"
    _recorded(home)
    expected = _same_details(_jsonl_rows(home))
    with served(Paths(home)):  # the owner holds the file: the export goes through its socket
        proc = lifelog("export", "-f", "parquet", "-o", str(out), env=_env(home))
        md = lifelog("export", "-f", "markdown", env=_env(home)).stdout
    assert "Wrote 2 days (UTC)" in proc.stderr
    assert _same_details(_parquet_rows(out)) == expected
    assert "- 09:00 **XTerm** · Inbox" in md


def test_markdown_day_log_in_order(tmp_path):
    home = tmp_path / "home"
    _recorded(home)
    target = tmp_path / "day.md"
    proc = lifelog("export", "--format", "markdown", "--since", "2026-03-02T00:00Z", "-o", str(target), env=_env(home))
    assert "Wrote a day log of" in proc.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    text = target.read_text(encoding="utf-8")
    expected = [
        "# Day log (lifelog; times UTC)",
        "## 2026-03-02, Monday",
        "### 09:00–10:00",
        "- 09:00 recording started",
        "- 09:00 **Firefox** · Inbox",
        "  - ticket 101 ready for review",
        "  - OK",
        "  - naïve café — 周五 15:00",
        "  - \\# not a heading",
        "- 09:00 heard (system audio): please look at ticket 101",
        "- 09:00 **XTerm** · Inbox",
        '  - ticket 102 "quoted"',
        "- 09:00 gap 09:00:03–09:30:00 · paused",
        "- 09:31 asked local: what?",
        "### 10:00–11:00",
        "- 10:01 **XTerm** · Inbox",
        "  - ticket 103 merged",
        "## 2026-03-03, Tuesday",
        "- 09:00 **Firefox** · Inbox",
        "  - the next day's line",
    ]
    lines, at_line = text.splitlines(), 0
    for line in expected:  # each after the one before
        at_line = lines.index(line, at_line) + 1
    assert lines.count("  - OK") == 1 and lines.count("  - ticket 101 ready for review") == 1  # each line once
    assert lifelog("export", "-f", "markdown", "--since", "2026-03-02T00:00Z", env=_env(home)).stdout == text


def test_bad_input_is_one_line_and_nothing_is_written(tmp_path):
    home = tmp_path / "home"
    _recorded(home)

    def refused(*args: str) -> str:
        proc = lifelog("export", *args, env=_env(home), check=False)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("lifelog: error: ")
        return proc.stderr

    assert "Unknown export format 'csv'. Valid: jsonl, parquet, markdown." in refused("-f", "csv")
    assert "give it with -o DIR" in refused("-f", "parquet")
    a_file = tmp_path / "a-file"
    a_file.write_text("mine\n")
    assert "it is a file" in refused("-f", "parquet", "-o", str(a_file))
    assert a_file.read_text() == "mine\n"
    assert "Cannot create /proc/lifelog-export" in refused("-f", "parquet", "-o", "/proc/lifelog-export")
    assert "Cannot write /proc/day.md" in refused("-f", "markdown", "-o", "/proc/day.md")
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"\xff\xd8")
    assert "is not empty and holds no lifelog Parquet export" in refused("-f", "parquet", "-o", str(foreign))
    assert sorted(p.name for p in foreign.iterdir()) == ["cat.jpg"]
    assert "--person and --machine are columns of the Parquet export" in refused("--person", "x")

    empty_range = ("--since", "2025-01-01T00:00Z", "--until", "2025-01-02T00:00Z")
    assert "Nothing recorded between 2025-01-01 00:00 and 2025-01-02 00:00" in refused(
        "-f", "parquet", *empty_range, "-o", str(tmp_path / "new")
    )
    assert "Nothing recorded" in refused("-f", "markdown", *empty_range, "-o", str(tmp_path / "day.md"))
    assert not (tmp_path / "new").exists() and not (tmp_path / "day.md").exists()
    assert not list(tmp_path.glob(".*"))
