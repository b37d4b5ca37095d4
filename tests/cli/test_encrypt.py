"""`lifelog encrypt` / `decrypt` end to end: a real recording of an xterm under Xvfb (real OCR),
real espeak-ng speech drained by `lifelog process` (real Whisper, a real Opus file), then a
byte scan of every file in the data folder. Passphrases come from LIFELOG_PASSPHRASE."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lifelog.spool.audio import Chunk, write_chunk
from tests.cli.helpers import lifelog, lifelog_json
from tests.support.speech import speech_samples
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not shutil.which("espeak-ng"), reason="needs espeak-ng")

PASS = "tangerine lighthouse 4417"
SEEN = "Ledger zqvorbital 58213 reconciled"
TITLE = "zqxtitlecanary"
SAID = "The purple giraffe ordered seventeen pancakes for breakfast."


@pytest.fixture
def env(screen, home):
    return {**os.environ, "DISPLAY": screen.display, "LIFELOG_HOME": str(home), "LIFELOG_PASSPHRASE": PASS}


def _record(screen, env, tmp_path, text: str, title: str) -> None:
    page = tmp_path / f"{title}.txt"
    page.write_text(f"{text}\n" * 3)
    screen.show_text(page, title=title)
    summary = lifelog_json("record", "--duration", "4s", "--no-audio", env=env)
    assert summary["frames_processed"] >= 1 and summary["left_in_spool"] == 0
    screen.close_windows()


def _speech_into_spool(home: Path, tmp_path: Path) -> None:
    samples = speech_samples(SAID, tmp_path)
    pcm = (samples * 32767).astype("int16")
    write_chunk(home / "spool" / "audio", Chunk("mic", datetime.now(UTC).replace(tzinfo=None), pcm))
    lifelog("process", env={**os.environ, "LIFELOG_HOME": str(home), "LIFELOG_PASSPHRASE": PASS})


def _export(env, path: Path) -> list[dict]:
    lifelog("export", "--format", "jsonl", "-o", str(path), env=env)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row in rows:
        row.pop("exported", None)  # the header's time of export
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))


def _counts(home: Path) -> dict[str, int]:
    """Rows in every table, read straight from the file (with the key when it is encrypted)."""
    from lifelog.store import crypt, keys

    secret = keys.db_secret(keys.data_key(home)) if crypt.is_encrypted_file(home / "lifelog.duckdb") else None
    with crypt.host() as con:
        crypt.attach_as(con, home / "lifelog.duckdb", "t", secret, read_only=True)
        tables = [
            r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 't'").fetchall()
        ]
        return {t: con.execute(f'SELECT count(*) FROM t.main."{t}"').fetchone()[0] for t in tables}


def _stored_texts(rows: list[dict]) -> set[str]:
    """The exact strings stored for the canaries (as OCR and Whisper wrote them)."""
    texts = set()
    for row in rows:
        for value in row.values():
            if isinstance(value, str) and any(w in value.lower() for w in ("zqvorbital", "giraffe", "zqxtitle")):
                texts.add(value)
    return texts


def _files(home: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file() and p.name != "owner.lock"}


def _hashes(home: Path) -> dict[Path, str]:
    return {p: hashlib.sha256(b).hexdigest() for p, b in _files(home).items()}


@pytest.mark.xvfb
def test_encrypt_a_recorded_timeline_keeps_every_row_leaves_no_plaintext_and_decrypt_gives_it_back(
    screen, env, home, tmp_path, monkeypatch
):
    monkeypatch.setenv("LIFELOG_PASSPHRASE", PASS)  # for _counts, which reads the file in this process
    _record(screen, env, tmp_path, SEEN, TITLE)
    _speech_into_spool(home, tmp_path)
    before = _export(env, tmp_path / "before.jsonl")
    counts = _counts(home)
    canaries = _stored_texts(before)
    assert any("zqvorbital" in t.lower() for t in canaries) and any("giraffe" in t.lower() for t in canaries)
    assert any(TITLE in t for t in canaries)
    assert list((home / "audio").rglob("*.ogg")) and list((home / "frames").rglob("*.*"))

    report = lifelog_json("encrypt", env=env)
    assert report["database"] == "encrypted" and report["files"] >= 2
    assert _export(env, tmp_path / "after.jsonl") == before
    assert _counts(home) == counts and counts["text_spans"] >= 1 and counts["transcripts"] >= 1
    for path, data in _files(home).items():
        for text in canaries:
            assert text.encode() not in data, f"{text!r} in {path}"

    # recording on, encrypted from the start this time
    _record(screen, env, tmp_path, "Ledger zqvsecond 77120 closed", "zqxsecondtitle")
    rows = _export(env, tmp_path / "more.jsonl")
    counts = _counts(home)
    fresh = {v for r in rows for v in r.values() if isinstance(v, str) and "zqvsecond" in v.lower()}
    assert fresh
    for path, data in _files(home).items():
        for text in canaries | fresh | {"zqxsecondtitle"}:
            assert text.encode() not in data, f"{text!r} in {path}"

    # a wrong passphrase: one line, exit 1, no file changed
    hashes = _hashes(home)
    wrong = {**env, "LIFELOG_PASSPHRASE": "not it"}
    for args in (("search", "ledger"), ("decrypt",), ("export", "--format", "jsonl", "-o", str(tmp_path / "x.jsonl"))):
        proc = lifelog(*args, env=wrong, check=False)
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "Wrong passphrase" in proc.stderr, proc.stderr
        assert "not it" not in proc.stderr
    no_pass = {k: v for k, v in env.items() if k != "LIFELOG_PASSPHRASE"}
    proc = lifelog("search", "ledger", env=no_pass, check=False)
    assert proc.returncode == 1 and "set LIFELOG_PASSPHRASE or run the daemon" in proc.stderr
    assert _hashes(home) == hashes

    assert lifelog_json("decrypt", env=env)["database"] == "decrypted"
    assert _export(env, tmp_path / "plain.jsonl") == rows
    assert _counts(home) == counts
    assert not (home / "lifelog.key").exists()
    assert any(SEEN.split()[1].encode() in data for data in _files(home).values())  # plaintext again


def test_encrypt_is_refused_while_an_owner_runs(home, tmp_path):
    from lifelog.daemon.ownership import OwnerLock
    from lifelog.paths import Paths

    env = {**os.environ, "LIFELOG_HOME": str(home), "LIFELOG_PASSPHRASE": PASS}
    paths = Paths.from_env().ensure()
    lock = OwnerLock(paths, "record")
    try:
        proc = lifelog("encrypt", env=env, check=False)
    finally:
        lock.release()
    assert proc.returncode == 1 and "already running" in proc.stderr
    assert not (home / "lifelog.key").exists()


@pytest.mark.xvfb
def test_an_encrypted_daemon_serves_readers_that_have_no_passphrase(screen, env, home, tmp_path):
    lifelog("encrypt", env=env)
    page = tmp_path / "page.txt"
    page.write_text("Ledger zqvdaemon 31337 reconciled\n" * 3)
    screen.show_text(page, title="served")
    wrong = {**env, "LIFELOG_PASSPHRASE": "not it", "LIFELOG_AUDIO_SOURCE": "none"}
    proc = lifelog("daemon", "start", env=wrong, check=False, timeout=180)
    assert (
        proc.returncode == 1
        and "Wrong passphrase" in lifelog("daemon", "logs", env=env, check=False).stdout + proc.stderr
    )
    lifelog("daemon", "start", env={**env, "LIFELOG_AUDIO_SOURCE": "none"}, timeout=180)
    try:
        no_pass = {k: v for k, v in env.items() if k != "LIFELOG_PASSPHRASE"}

        def search() -> list:  # the daemon reads the screen, then answers
            found = lifelog("search", "zqvdaemon", "--json", env=no_pass, check=False)
            return json.loads(found.stdout) if found.returncode == 0 else []

        hits = wait_for(
            search, timeout=120, what="the daemon to find the screen's text without a passphrase", interval=0.5
        )
        assert "31337" in hits[0]["text"]
        refused = lifelog("decrypt", env=env, check=False)
        assert refused.returncode == 1 and "already running" in refused.stderr
    finally:
        lifelog("daemon", "stop", env=env, timeout=300, check=False)
    for path, data in _files(home).items():
        assert b"zqvdaemon" not in data, path
