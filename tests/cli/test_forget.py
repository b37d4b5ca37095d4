"""``lifelog forget`` for real: a data folder with a database, frame images, audio files and a
spool; after forgetting, a byte scan of every file finds none of what went, and search,
context and export know nothing of it while the rest of the timeline is intact."""

from __future__ import annotations

import json
import os
import signal
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from lifelog.models import AudioChunkRecord, FrameRecord, OcrLine, SpooledFrame, Transcript, WindowInfo
from lifelog.paths import Paths
from lifelog.spool import write_frame
from lifelog.store import Store
from lifelog.store.audio_files import AudioFiles
from lifelog.store.images import FrameImages
from lifelog.timespec import utcnow
from tests.cli.helpers import lifelog, lifelog_json

SECRET = "Zebrafinch salary review"
KEPT = "Quokka budget memo"
NEEDLES = (b"zebrafinch", b"Zebrafinch", b"ZEBRAFINCH")


@pytest.fixture
def env(home):
    return {**os.environ, "LIFELOG_HOME": str(home)}


def _plant(home: Path, t0) -> None:
    """Forty minutes ago: a screen with the secret and a kept line (a stored frame image each),
    a transcript of each with its audio, an ask event holding the secret, and a spooled frame
    not yet read whose window title holds it."""
    paths = Paths(home).ensure()
    images, audio = FrameImages(paths.frames), AudioFiles(paths.audio)
    day = f"{t0:%Y-%m-%d}"
    store = Store(paths.db)
    with store.write() as w:
        for i, (text, top) in enumerate(((SECRET, 100), (KEPT, 500))):
            ts = t0 + timedelta(seconds=i)
            pixels = np.full((1080, 1920, 3), 40 + i, np.uint8)
            ref = images.save(f"{ts:%Y%m%dT%H%M%S%f}-m00.png", day, pixels)
            fid = w.add_frame(
                FrameRecord(ts, 0, 1920, 1080, "firefox", f"Notes — {text}", ref, (0, 0, 1920, 1080), keyframe=True)
            )
            w.observe_lines(fid, ts, 0, "firefox", f"Notes — {text}", [OcrLine(text, (40, top, 600, top + 24))])
            w.close_spans(ts + timedelta(seconds=0.5))
            start = t0 + timedelta(seconds=20 + 20 * i)
            audio_ref = audio.save(f"{start:%Y%m%dT%H%M%S%f}-mic.wav", day, np.zeros(16000, np.float32))
            chunk = w.add_audio_chunk(AudioChunkRecord(start, start + timedelta(seconds=5), "mic", audio_ref, 5.0))
            w.add_transcripts(
                [
                    Transcript(
                        start,
                        start + timedelta(seconds=5),
                        "mic",
                        "faster-whisper",
                        f"we discussed the {text}",
                        6,
                        chunk,
                    )
                ]
            )
        w.add_event(t0 + timedelta(seconds=60), "ask", {"question": f"what did the {SECRET} say?", "answer": "-"})
    write_frame(
        paths.spool,
        SpooledFrame(
            utcnow(),
            0,
            64,
            32,
            (0, 0, 64, 32),
            True,
            WindowInfo("firefox", f"Draft — {SECRET}"),
            np.zeros((32, 64, 3), np.uint8),
        ),
    )


def _files_holding(home: Path, needles=NEEDLES) -> list[str]:
    found = []
    for root, _, files in os.walk(home):
        for name in files:
            path = Path(root) / name
            if path.is_socket():
                continue
            data = path.read_bytes()
            if any(n in data for n in needles):
                found.append(str(path.relative_to(home)))
    return found


def _count_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file())


def _reads(env, tmp_path: Path) -> dict[str, str]:
    out = tmp_path / "export.jsonl"
    lifelog("export", "--format", "jsonl", "-o", str(out), env=env)
    return {
        "search": json.dumps(lifelog_json("search", "zebrafinch quokka", env=env)),
        "context": lifelog("context", "--since", "3h", env=env).stdout,
        "export": out.read_text(),
    }


def test_forget_matching_leaves_no_byte_anywhere(env, home, tmp_path):
    _plant(home, utcnow() - timedelta(minutes=40))
    assert _files_holding(home)  # the scan finds the text where it is: the test can fail
    before = _reads(env, tmp_path)
    assert all("Zebrafinch" in text and "Quokka" in text for text in before.values()), before

    report = lifelog_json("forget", "--matching", "zebrafinch SALARY", env=env)
    assert (report["lines"], report["transcripts"], report["frames"], report["audio_files"]) == (1, 1, 1, 1)
    assert report["events"] == 1 and report["spool_files"] == 1
    assert report["bytes_after"] < report["bytes_before"]

    assert _files_holding(home) == []
    after = _reads(env, tmp_path)
    for what, text in after.items():
        assert "Zebrafinch" not in text and "zebrafinch" not in text, what
        assert "Quokka" in text, what  # the rest of the timeline is intact
    assert _count_files(home / "frames") == 1 and _count_files(home / "audio") == 1


def test_forget_a_range_by_clock_time_and_the_last_minutes(env, home):
    t0 = utcnow() - timedelta(minutes=40)
    _plant(home, t0)
    local = lambda t: (t.replace(tzinfo=__import__("datetime").timezone.utc).astimezone()).strftime("%H:%M:%S")  # noqa: E731
    proc = lifelog(
        "forget", "--since", local(t0 + timedelta(seconds=15)), "--until", local(t0 + timedelta(seconds=50)), env=env
    )
    assert proc.stdout.startswith("Forgot 2 transcripts, 2 audio files;"), proc.stdout
    assert "MB back" in proc.stdout
    hits = lifelog_json("search", "discussed", env=env)
    assert hits == []
    assert "forgotten]" in lifelog("context", "--since", "2h", env=env).stdout
    report = lifelog_json("forget", "--last", "45m", "--dry-run", env=env)
    assert report["dry_run"] and report["lines"] == 2
    assert len(lifelog_json("search", "quokka", env=env)) == 1  # a dry run changes nothing


def test_forget_an_app(env, home):
    _plant(home, utcnow() - timedelta(minutes=40))
    report = lifelog_json("forget", "--app", "FIREFOX", "--yes", env=env)
    assert (report["lines"], report["frames"], report["transcripts"]) == (2, 2, 0)
    assert [h["source"] for h in lifelog_json("search", "quokka", env=env)] == ["heard"]  # speech has no app: it stays


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "2020-01-01T09:00", "--until", "2020-01-01T10:00"], "Nothing to forget"),
        ([], "Say what to forget"),
        (["--last", "10m", "--since", "1h"], "not both"),
        (["--title", "(unclosed"], "Bad --title regular expression"),
        (["--since", "25:00"], "Bad time '25:00'"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(env, home, args, message):
    _plant(home, utcnow() - timedelta(minutes=40))
    db = (home / "lifelog.duckdb").read_bytes()
    proc = lifelog("forget", *args, env=env, check=False)
    assert proc.returncode != 0 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert (home / "lifelog.duckdb").read_bytes() == db


@pytest.mark.xvfb
def test_forget_through_a_running_owner(screen, home, tmp_path):
    """The daemon owns the file: forget goes over its socket, it rewrites and swaps the file
    under its own connection, and keeps serving (and recording) after."""
    env = {**os.environ, "DISPLAY": screen.display, "LIFELOG_HOME": str(home), "LIFELOG_AUDIO_SOURCE": "none"}
    t0 = utcnow() - timedelta(minutes=40)
    rows = tmp_path / "rows.jsonl"
    lines = [{"lifelog": "timeline", "version": 1}]
    for i, text in enumerate((SECRET, KEPT)):
        ts = (t0 + timedelta(seconds=i)).isoformat() + "Z"
        lines.append({"type": "seen", "t_start": ts, "t_end": ts, "app": "firefox", "window": "Notes", "text": text})
        lines.append({"type": "heard", "t_start": ts, "t_end": ts, "source": "mic", "text": f"we said {text}"})
    rows.write_text("".join(json.dumps(x) + "\n" for x in lines))
    started = lifelog_json("daemon", "start", env=env, timeout=180)
    try:
        lifelog("import", str(rows), env=env)
        assert len(lifelog_json("search", "zebrafinch", env=env)) == 2
        report = lifelog_json("forget", "--matching", "zebrafinch", env=env)
        assert (report["lines"], report["transcripts"]) == (1, 1)
        assert lifelog_json("search", "zebrafinch", env=env) == []
        assert len(lifelog_json("search", "quokka", env=env)) == 2
        status = lifelog_json("daemon", "status", env=env)
        assert status["running"] and status["pid"] == started["pid"] and status["owner"]["capturing"]
    except AssertionError:
        print("\n".join(p.read_text() for p in (home / "logs").rglob("*") if p.is_file()))
        raise
    finally:
        lifelog("daemon", "stop", env=env, timeout=300, check=False)
        try:
            os.kill(started["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert _files_holding(home) == []
    assert len(lifelog_json("search", "quokka", env=env)) == 2


@pytest.mark.parametrize("step", ["staged", "commit", "pending", "files", "copy", "swap"])
def test_a_kill_at_any_step_leaves_the_timeline_whole_and_the_next_forget_finishes(env, home, step):
    from lifelog.store.rewrite import DIE_AT_ENV

    _plant(home, utcnow() - timedelta(minutes=40))
    killed = lifelog("forget", "--matching", "zebrafinch", env={**env, DIE_AT_ENV: step}, check=False)
    assert killed.returncode == 9, killed.stderr
    texts = [h["text"] for h in lifelog_json("search", "zebrafinch quokka", env=env)]
    assert sum(KEPT in t for t in texts) == 2  # whole: the rest is all there ...
    assert sum(SECRET in t for t in texts) == (2 if step == "staged" else 0)  # ... and the forget before or after
    again = lifelog("forget", "--matching", "zebrafinch", env=env, check=False)
    assert again.returncode == (0 if step == "staged" else 2), again.stderr  # 2: finished, nothing left to forget
    assert _files_holding(home) == []
    assert not list(home.glob(".lifelog.duckdb.*"))  # no copy, no pending list left
    assert sum(KEPT in h["text"] for h in lifelog_json("search", "quokka", env=env)) == 2
    assert _count_files(home / "frames") == 1 and _count_files(home / "audio") == 1
