"""End to end on a real X screen: record what an xterm shows, then search and context find it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import pytest

from lifelog.tokenize_media.tokenizers import get_tokenizer
from tests.cli.helpers import lifelog, lifelog_json

PAGE = """Quarterly supplier report
Invoice 4821 from Northwind Traders is overdue
Amount payable 1250 euros before the end of November
Contact Maria Lopez about the shipping delay
Meeting notes: migrate the billing service to the new cluster
"""


@pytest.fixture
def env(screen, home):
    return {**os.environ, "DISPLAY": screen.display, "LIFELOG_HOME": str(home)}


def test_record_then_search_and_context(screen, env, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(PAGE)
    screen.show_text(page, title="report")
    summary = lifelog_json("record", "--duration", "5s", "--no-audio", env=env)
    assert summary["frames_kept"] >= 1
    assert summary["left_in_spool"] == 0
    assert summary["frames_processed"] == summary["frames_kept"]

    hits = lifelog_json("search", "invoice 4821", env=env)
    assert hits and "4821" in hits[0]["text"] and hits[0]["source"] == "seen"
    assert hits[0]["app"] == "XTerm"

    ctx = lifelog("context", "--since", "10m", "--budget", "8000", env=env)
    words = {w.strip(".,:").lower() for w in ctx.stdout.split()}
    for needed in ("invoice", "4821", "northwind", "overdue", "payable", "maria", "lopez", "billing", "cluster"):
        assert needed in words, f"{needed!r} missing from context:\n{ctx.stdout}"
    assert get_tokenizer().count(ctx.stdout) <= 8000
    assert "tokens (o200k) of 8,000" in ctx.stderr

    status = lifelog_json("status", env=env)
    assert status["frames_kept"] == status["frames_stored"] >= 1
    assert status["text_spans"] >= 5 and status["pending_frames"] == 0
    data_dir = env["LIFELOG_HOME"]
    assert stat.S_IMODE(os.stat(data_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(data_dir, "lifelog.duckdb")).st_mode) == 0o600


def test_reads_while_recording_and_no_frame_lost(screen, env, tmp_path):
    ticker = subprocess.Popen(
        [
            "xterm",
            "-geometry",
            "120x40+0+0",
            "-fa",
            "DejaVu Sans Mono",
            "-fs",
            "13",
            "-e",
            "sh",
            "-c",
            'i=0; while true; i=$((i+1)); do echo "ticket $i ready for review"; sleep 0.7; done',
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        rec = subprocess.Popen(
            [sys.executable, "-m", "lifelog.cli.app", "record", "--duration", "20s", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(6)
        reads = 0
        while rec.poll() is None and reads < 8:
            lifelog("status", "--json", env=env, timeout=60)
            lifelog("search", "ticket", "--json", env=env, timeout=60)
            lifelog("context", "--since", "5m", "--budget", "2000", env=env, timeout=60)
            reads += 1
        out, err = rec.communicate(timeout=300)
    finally:
        ticker.terminate()
    assert rec.returncode == 0, err
    assert reads >= 2
    import json

    summary = json.loads(out)
    status = lifelog_json("status", env=env)
    assert summary["frames_kept"] > 10
    assert status["frames_stored"] == summary["frames_kept"] == status["frames_kept"]
    assert status["pending_frames"] == 0
    hits = lifelog_json("search", "ticket ready for review", "--limit", "100", env=env)
    assert len(hits) >= 5


def test_no_display_is_a_clear_error(home):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env["LIFELOG_HOME"] = str(home)
    proc = lifelog("record", "--duration", "2s", env=env, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("lifelog: error: Cannot capture the screen")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_sigterm_stops_cleanly_and_leaves_a_consistent_database(screen, env, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(PAGE)
    screen.show_text(page, title="report")
    rec = subprocess.Popen(
        [sys.executable, "-m", "lifelog.cli.app", "record", "--no-audio", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(8)
    rec.terminate()  # SIGTERM
    out, err = rec.communicate(timeout=300)
    assert rec.returncode == 0, err
    import json

    summary = json.loads(out)
    assert summary["frames_kept"] >= 1 and summary["left_in_spool"] == 0
    status = lifelog_json("status", env=env)
    assert status["frames_stored"] == summary["frames_kept"] and status["pending_frames"] == 0
    ctx = lifelog("context", "--since", "10m", env=env).stdout
    assert "recording stopped" in ctx and "Northwind" in ctx
