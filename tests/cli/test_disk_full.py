"""A data folder that fills up during a real ``lifelog record`` under Xvfb: capture pauses with a
``low_disk`` gap, nothing crashes, recording resumes once the space is freed, and the database
opens whole afterwards. The data folder is a 40 MB tmpfs (needs root to mount; skipped if refused)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import duckdb
import pytest

from tests.cli.helpers import lifelog_json
from tests.support.tmpfs import small_tmpfs
from tests.support.wait import wait_for


@pytest.fixture
def small_disk(tmp_path):
    with small_tmpfs(tmp_path, "40m") as mount:
        yield mount


def _fill(path, leave: int) -> None:
    """Write ``path`` until the disk has about ``leave`` bytes free."""
    with open(path, "wb") as fh:
        while (free := shutil.disk_usage(path.parent).free) > leave:
            fh.write(b"\0" * min(1 << 20, free - leave))
            fh.flush()
            os.fsync(fh.fileno())


def test_a_full_data_folder_pauses_capture_with_a_gap_and_recording_resumes(screen, small_disk, tmp_path):
    home = small_disk / "home"
    env = {**os.environ, "DISPLAY": screen.display, "LIFELOG_HOME": str(home), "LIFELOG_DISK_MIN_FREE": "10MB"}
    ticker = subprocess.Popen(
        [
            "xterm",
            "-geometry",
            "100x30+0+0",
            "-fa",
            "DejaVu Sans Mono",
            "-fs",
            "13",
            "-e",
            "sh",
            "-c",
            'i=0; while true; i=$((i+1)); do echo "ticket $i ready for review"; sleep 0.7; done',
        ]
    )
    log = (tmp_path / "record.log").open("w")
    rec = subprocess.Popen(
        [sys.executable, "-m", "lifelog.cli.app", "record", "--duration", "240s", "--no-audio", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    frames = lambda: len(list((home / "frames").glob("*/*")))  # noqa: E731
    try:
        wait_for(lambda: frames() > 0, 60, "the first stored frame", interval=0.5)
        filler = small_disk / "filler"
        _fill(filler, leave=2_000_000)  # under the 10 MB floor, with room for the rows that say so
        time.sleep(10)
        assert rec.poll() is None, "lifelog record exited while the disk was full"
        before, freed = frames(), time.monotonic()
        filler.unlink()
        wait_for(lambda: frames() > before, 120, "frames stored after the space was freed", interval=0.5)
        time.sleep(max(0.0, freed + 10 - time.monotonic()))  # capture resumes within a check (3 s) or two
        rec.terminate()  # SIGTERM: stops capture, stores what waits, exit 0
        out, _ = rec.communicate(timeout=240)
    finally:
        if rec.poll() is None:
            rec.kill()
        ticker.kill()
        log.close()
    stderr = (tmp_path / "record.log").read_text()
    assert rec.returncode == 0, stderr
    summary = json.loads(out)
    assert summary["capture_error"] == "" and summary["left_in_spool"] == 0, summary

    con = duckdb.connect(str(home / "lifelog.duckdb"), read_only=True)  # opens whole
    try:
        gaps = [json.loads(d) for (d,) in con.execute("SELECT detail FROM events WHERE kind = 'gap'").fetchall()]
        low = [g for g in gaps if g.get("reason") == "low_disk"]
        assert len(low) == 1 and low[0]["until"], gaps
        resumed_at = low[0]["until"]
        after = con.execute("SELECT count(*) FROM frames WHERE ts > ?::TIMESTAMP", [resumed_at]).fetchone()[0]
        spans = con.execute("SELECT count(*) FROM text_spans WHERE text LIKE 'ticket % ready for review'").fetchone()[0]
    finally:
        con.close()
    assert after >= 1, "capture did not resume after the space was freed"
    assert spans >= 1
    status = lifelog_json("status", env=env)
    assert status["storage"]["database"] > 0 and status["disk_free_bytes"] > 10_000_000
