"""``lifelog export --format jsonl`` and ``lifelog import FILE.jsonl`` for real: DuckDB files in
private homes, the CLI in subprocesses, an owner on an Xvfb screen."""

from __future__ import annotations

import json
import os
import signal
import stat
from pathlib import Path

import pytest

from lifelog.store import Store
from tests.cli.helpers import lifelog, lifelog_json
from tests.store.timeline_helpers import T0, at, observe, said


def _env(home: Path) -> dict:
    return {**os.environ, "LIFELOG_HOME": str(home), "LIFELOG_AUDIO_SOURCE": "none"}


def _recorded(home: Path, shift: float = 0, words: str = "ticket", close: bool = True) -> None:
    """A timeline as the recorder writes one: frames whose lines become spans (two equal lines
    at two places; spans left open unless ``close``), text heard, events with and without detail."""
    with Store(home / "lifelog.duckdb").write() as w:
        w.add_event(at(shift), "record_start", {"fps": 2.0})
        observe(w, at(shift + 0.5), [f"{words} 101 ready for review", "OK", "OK", "naïve café — 周五 15:00"])
        observe(w, at(shift + 1.0), [f"{words} 101 ready for review", "OK", f'{words} 102 "quoted"'], app="XTerm")
        w.add_transcripts([said(shift + 0.7, shift + 2.5, f"please look at {words} 101", source="system")])
        w.add_event(at(shift + 1.2), "pause", {})
        w.add_event(at(shift + 1.2), "ask", {"question": "what?", "answer": "that."})
        if close:
            w.close_spans(at(shift + 1.5))


def _body(path: Path) -> tuple[dict, str]:
    head, rest = path.read_text(encoding="utf-8").split("\n", 1)
    return json.loads(head), rest


def test_round_trip_gives_the_same_lines_and_a_second_import_adds_nothing(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _recorded(a, close=False)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    proc = lifelog("export", "-o", str(first), env=_env(a))
    assert f"Exported 9 rows (5 seen, 1 heard, 3 events) to {first} in " in proc.stderr
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert lifelog("export", env=_env(a)).stdout.split("\n", 1)[1] == _body(first)[1]

    report = lifelog_json("import", str(first), env=_env(b))[0]
    assert report["inserted"] == report["read"] and sum(report["duplicates"].values()) == 0
    again = lifelog_json("import", str(first), env=_env(b))[0]
    assert sum(again["inserted"].values()) == 0 and again["duplicates"] == report["read"]

    lifelog("export", "--format", "jsonl", "-o", str(second), env=_env(b))
    (head1, body1), (head2, body2) = _body(first), _body(second)
    assert body1 == body2
    assert {k: v for k, v in head1.items() if k != "exported"} == {k: v for k, v in head2.items() if k != "exported"}
    assert head1["rows"] == report["read"] == {"seen": 5, "heard": 1, "event": 3}
    rows = [json.loads(line) for line in body1.splitlines()]
    assert [r["text"] for r in rows if r["type"] == "seen"].count("OK") == 2  # seen twice at once
    assert {
        "type": "event",
        "ts": at(1.2).isoformat() + "Z",
        "kind": "ask",
        "detail": {"question": "what?", "answer": "that."},
    } in rows


def test_two_machines_merge_and_the_result_is_searchable(tmp_path):
    laptop, desktop, both = tmp_path / "laptop", tmp_path / "desktop", tmp_path / "both"
    _recorded(laptop)
    _recorded(desktop, words="invoice")
    _recorded(desktop, shift=3600)  # an hour later: the laptop's lines again, on the desktop
    files = []
    for home in (laptop, desktop):
        files.append(tmp_path / f"{home.name}.jsonl")
        lifelog("export", "-o", str(files[-1]), env=_env(home))
    reports = lifelog_json("import", *map(str, files), env=_env(both))
    merged = tmp_path / "both.jsonl"
    lifelog("export", "-o", str(merged), env=_env(both))
    lines = lambda p: set(_body(p)[1].splitlines())  # noqa: E731
    assert lines(merged) == lines(files[0]) | lines(files[1])
    # the record_start, pause and ask events at the same moments are the same events
    assert reports[1]["duplicates"] == {"seen": 3, "heard": 0, "event": 3}

    hits = lifelog_json("search", "invoice 102", env=_env(both))
    assert hits and hits[0]["text"] == 'invoice 102 "quoted"'
    heard = lifelog_json("search", "please look at ticket", env=_env(both))
    assert any(h["source"] == "heard" for h in heard)
    assert "ticket 101 ready for review" in lifelog("search", "review", "--app", "Firefox", env=_env(both)).stdout


def test_a_malformed_line_is_named_and_nothing_is_imported(tmp_path):
    home, src = tmp_path / "home", tmp_path / "src"
    _recorded(src)
    good = tmp_path / "good.jsonl"
    lifelog("export", "-o", str(good), env=_env(src))
    lines = good.read_text().splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines[:6] + ['{"type": "seen", "t_start": "2026-03-02T09:00:01Z"'] + lines[6:]) + "\n")
    proc = lifelog("import", str(bad), env=_env(home), check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "lifelog: error: Cannot import bad.jsonl: line 7 is not JSON (Expecting ',' delimiter at column 51). "
        "Nothing was imported."
    ]
    assert lifelog_json("status", env=_env(home))["text_spans"] == 0

    newer = tmp_path / "newer.jsonl"
    newer.write_text('{"lifelog":"timeline","version":2,"rows":{}}\n' + "\n".join(lines[1:]) + "\n")
    proc = lifelog("import", str(newer), env=_env(home), check=False)
    assert proc.returncode == 2 and "version 2, newer than this lifelog reads (1)" in proc.stderr
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[:-2]) + "\n")
    proc = lifelog("import", str(cut), env=_env(home), check=False)
    assert proc.returncode == 2 and "incomplete" in proc.stderr
    status = lifelog_json("status", env=_env(home))
    assert (status["text_spans"], status["transcripts"]) == (0, 0)


def test_export_a_range_and_audio_still_needs_its_start(tmp_path):
    home = tmp_path / "home"
    _recorded(home)
    _recorded(home, shift=86400, words="invoice")  # the next day
    out = tmp_path / "day2.jsonl"
    since, until = at(86400).isoformat() + "+00:00", at(86400 + 1.1).isoformat() + "+00:00"
    lifelog("export", "--since", since, "--until", until, "-o", str(out), env=_env(home))
    head, body = _body(out)
    rows = [json.loads(line) for line in body.splitlines()]
    assert head["since"] == at(86400).isoformat() + "Z" and head["until"] == at(86401.1).isoformat() + "Z"
    assert {r["text"] for r in rows if r["type"] == "seen"} >= {"invoice 101 ready for review", 'invoice 102 "quoted"'}
    assert not any("ticket" in r.get("text", "") for r in rows)
    assert [r["kind"] for r in rows if r["type"] == "event"] == ["record_start"]  # the pause came at +1.2 s
    assert head["rows"] == {k: sum(r["type"] == k for r in rows) for k in ("seen", "heard", "event")}

    wav = tmp_path / "talk.wav"
    wav.write_bytes(b"RIFF")
    proc = lifelog("import", str(wav), env=_env(home), check=False)
    assert proc.returncode == 2 and "Importing talk.wav needs --at" in proc.stderr
    proc = lifelog("export", "--format", "csv", env=_env(home), check=False)
    assert proc.returncode == 2 and "Unknown export format 'csv'. Valid: jsonl, parquet, markdown." in proc.stderr


@pytest.fixture
def owner(screen, tmp_path):
    """A running daemon on the test screen, stopped (or killed) after the test."""
    env = {**_env(tmp_path / "home"), "DISPLAY": screen.display}
    started = lifelog_json("daemon", "start", env=env, timeout=180)
    yield env
    lifelog("daemon", "stop", env=env, timeout=300, check=False)
    try:
        os.kill(started["pid"], signal.SIGKILL)
    except ProcessLookupError:
        pass


def test_export_and_import_through_a_running_owner(owner, tmp_path):
    src = tmp_path / "src"
    _recorded(src)
    exported = tmp_path / "src.jsonl"
    lifelog("export", "-o", str(exported), env=_env(src))

    report = lifelog_json("import", str(exported), env=owner)[0]
    assert report["inserted"] == report["read"]
    assert sum(lifelog_json("import", str(exported), env=owner)[0]["inserted"].values()) == 0
    hits = lifelog_json("search", "quoted", env=owner)
    assert hits and hits[0]["text"] == 'ticket 102 "quoted"'
    assert lifelog_json("status", env=owner)["owner"]  # the owner answered, not a file of our own

    back = tmp_path / "back.jsonl"  # the imported day only: the owner keeps recording today
    lifelog(
        "export",
        "--since",
        T0.isoformat() + "+00:00",
        "--until",
        at(3600).isoformat() + "+00:00",
        "-o",
        str(back),
        env=owner,
    )
    assert _body(back)[1] == _body(exported)[1]

    bad = tmp_path / "bad.jsonl"
    bad.write_text(exported.read_text().replace('"kind":"pause"', '"kind":7'))
    proc = lifelog("import", str(bad), env=owner, check=False)
    assert proc.returncode == 2 and "Cannot import bad.jsonl: line " in proc.stderr and 'bad "kind"' in proc.stderr
