"""Encryption at rest with real parts: a real DuckDB file encrypted by DuckDB itself (httpfs's
OpenSSL, loaded offline), real frame and audio files sealed with AES-GCM, real subprocesses
killed in the middle of a write or a conversion. Every check is a byte scan of the files."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from lifelog.errors import PassphraseError
from lifelog.paths import Paths
from lifelog.store import Store, convert, crypt, keys, sealed
from lifelog.store.audio_files import AudioFiles
from lifelog.store.images import FrameImages
from tests.store.timeline_helpers import SRC, at, observe, said
from tests.support.wait import wait_for

CANARY_SEEN = "zqxcanaryseen7741"
CANARY_HEARD = "zqxcanaryheard5523"
CANARY_TITLE = "zqxcanarytitle9036"
PASS = "correct horse battery staple"


@pytest.fixture
def paths(tmp_path, monkeypatch) -> Paths:
    monkeypatch.setenv("LIFELOG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASS)
    p = Paths.from_env().ensure()
    yield p
    keys.remember(p.data, None)


def _fill(store: Store) -> None:
    with store.write() as w:
        fid = w.add_frame(_frame_record())
        w.observe_lines(fid, at(0), 0, "xterm", CANARY_TITLE, [_line(f"{CANARY_SEEN} line {i}", i) for i in range(40)])
        w.add_transcripts([said(1, 3, f"{CANARY_HEARD} was said aloud")])
    with store.write() as w:
        observe(w, at(5), [f"{CANARY_SEEN} again"])


def _frame_record():
    from tests.store.timeline_helpers import frame

    return dataclasses.replace(frame(at(0), app="xterm"), window=CANARY_TITLE)


def _line(text: str, i: int):
    from tests.store.timeline_helpers import line

    return line(text, top=30 * i)


def _all_bytes(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _screen() -> np.ndarray:
    rng = np.random.default_rng(7)
    return (rng.integers(0, 4, (120, 200, 3)) * 60).astype(np.uint8)


def _voice() -> np.ndarray:
    t = np.arange(16000) / 16000
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def _encrypt_new(paths: Paths) -> None:
    """An empty timeline made encrypted before anything is written to it."""
    convert.encrypt(paths, PASS)
    Store(paths.db).migrate()
    assert crypt.is_encrypted_file(paths.db)


def test_an_encrypted_timeline_keeps_no_plaintext_anywhere(paths):
    _encrypt_new(paths)
    store = Store(paths.db)
    _fill(store)
    frame_ref = FrameImages(paths.frames).save("f.png", "2026-03-02", _screen())
    audio_ref = AudioFiles(paths.audio).save("a.wav", "2026-03-02", _voice())
    assert crypt.is_encrypted_file(paths.db)
    for path, data in _all_bytes(paths.data).items():
        for canary in (CANARY_SEEN, CANARY_HEARD, CANARY_TITLE):
            assert canary.encode() not in data, f"{canary} in {path}"
    assert sealed.is_sealed((paths.frames / frame_ref).read_bytes())
    assert sealed.is_sealed((paths.audio / audio_ref).read_bytes())
    # and it all reads back with the key
    assert np.array_equal(FrameImages(paths.frames).load(frame_ref), _screen())
    with crypt.host() as con:
        crypt.attach_as(con, paths.db, "t", keys.db_secret(keys.data_key(paths.data)), read_only=True)
        assert (
            con.execute("SELECT count(*) FROM t.text_spans WHERE text LIKE ?", [f"%{CANARY_SEEN}%"]).fetchone()[0] == 41
        )
        assert con.execute("SELECT count(*) FROM t.transcripts").fetchone()[0] == 1


def test_the_wal_of_a_killed_writer_is_encrypted_and_replays(paths, tmp_path):
    _encrypt_new(paths)
    Store(paths.db).migrate()
    script = textwrap.dedent(f"""
        import os, sys
        sys.path[:0] = [{str(SRC)!r}, {str(Path(__file__).resolve().parents[2])!r}]
        from pathlib import Path
        from lifelog.store import Store
        from tests.store.timeline_helpers import at, observe
        store = Store.open_owner(Path({str(paths.db)!r}))
        with store.write() as w:
            observe(w, at(0), ["{CANARY_SEEN} in the wal"])
        os._exit(9)  # no close: the row lives in the WAL only
    """)
    subprocess.run([sys.executable, "-c", script], check=False, env=os.environ.copy(), timeout=120)
    wal = paths.db.with_name(paths.db.name + ".wal")
    assert wal.exists() and wal.stat().st_size > 0
    for path, data in _all_bytes(paths.data).items():
        assert CANARY_SEEN.encode() not in data, path
    with Store(paths.db).write():  # opens (replaying the WAL with the key) and writes again
        pass
    with crypt.host() as con:
        crypt.attach_as(con, paths.db, "t", keys.db_secret(keys.data_key(paths.data)), read_only=True)
        assert (
            con.execute("SELECT count(*) FROM t.text_spans WHERE text LIKE ?", [f"%{CANARY_SEEN}%"]).fetchone()[0] == 1
        )


def test_a_wrong_passphrase_is_refused_and_nothing_changes(paths, monkeypatch):
    _encrypt_new(paths)
    _fill(Store(paths.db))
    keys.remember(paths.data, None)
    before = {p: hashlib.sha256(b).hexdigest() for p, b in _all_bytes(paths.data).items()}
    monkeypatch.setenv(keys.PASSPHRASE_ENV, "not the passphrase")
    with pytest.raises(PassphraseError, match="Wrong passphrase"):
        with Store(paths.db).read():
            pass
    with pytest.raises(PassphraseError, match="Wrong passphrase"):
        convert.decrypt(paths, "not the passphrase")
    assert {p: hashlib.sha256(b).hexdigest() for p, b in _all_bytes(paths.data).items()} == before


def test_without_a_passphrase_and_a_terminal_reading_says_what_to_do(paths, monkeypatch):
    _encrypt_new(paths)
    keys.remember(paths.data, None)
    monkeypatch.delenv(keys.PASSPHRASE_ENV)
    with pytest.raises(PassphraseError, match="set LIFELOG_PASSPHRASE or run the daemon"):
        with Store(paths.db).read():
            pass


def test_the_key_file_holds_no_key_and_is_private(paths):
    _encrypt_new(paths)
    key = keys.data_key(paths.data)
    blob = keys.key_path(paths.data).read_bytes()
    assert key not in blob and key.hex().encode() not in blob
    assert keys.db_secret(key).encode() not in blob
    assert keys.key_path(paths.data).stat().st_mode & 0o777 == 0o600


def test_sealing_is_authenticated_and_reads_plaintext_too():
    key = os.urandom(32)
    blob = sealed.seal(b"frame bytes", key)
    assert sealed.unseal(blob, key) == b"frame bytes"
    assert sealed.unseal(b"plain bytes", key) == b"plain bytes"
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(PassphraseError):
        sealed.unseal(tampered, key)
    assert sealed.seal(b"x", key) != sealed.seal(b"x", key)  # a fresh nonce each time


def test_encrypt_then_decrypt_keeps_every_row_and_file(paths):
    store = Store(paths.db)
    _fill(store)
    ref = FrameImages(paths.frames).save("f.png", "2026-03-02", _screen())
    from lifelog.spool.audio import Chunk, read_chunk, write_chunk

    pcm = (_voice() * 32767).astype("int16")
    chunk = write_chunk(paths.audio_spool, Chunk("mic", at(0), pcm))  # left in the spool by a crash
    before = _dump(paths, None)
    report = convert.encrypt(paths, PASS)
    assert report["database"] == "encrypted" and report["files"] == 2
    assert sealed.is_sealed(chunk.read_bytes())
    assert np.array_equal((read_chunk(chunk)[2] * 32768).astype("int16"), pcm)
    assert report["rows"]["text_spans"] == 41
    assert crypt.is_encrypted_file(paths.db) and keys.is_encrypted(paths.data)
    assert _dump(paths, keys.db_secret(keys.data_key(paths.data))) == before
    assert convert.decrypt(paths, PASS)["database"] == "decrypted"
    assert not crypt.is_encrypted_file(paths.db) and not keys.is_encrypted(paths.data)
    assert _dump(paths, None) == before
    assert not sealed.is_sealed((paths.frames / ref).read_bytes()) and not sealed.is_sealed(chunk.read_bytes())
    assert {p.name for p in paths.data.iterdir()} >= {"lifelog.duckdb"}
    assert not list(paths.data.glob(".*convert*"))


def _dump(paths: Paths, secret: str | None) -> dict:
    """Every table's rows in order, every sequence's next value."""
    with crypt.host() as con:
        crypt.attach_as(con, paths.db, "t", secret, read_only=True)
        tables = [
            r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name='t'").fetchall()
        ]
        out = {t: con.execute(f'SELECT * FROM t.main."{t}" ORDER BY ALL').fetchall() for t in tables}
        out["_sequences"] = con.execute(
            "SELECT sequence_name, last_value FROM duckdb_sequences() WHERE database_name='t' ORDER BY 1"
        ).fetchall()
    return out


@pytest.mark.parametrize(
    "direction,step",
    [
        ("encrypt", "key"),
        ("encrypt", "copy"),
        ("encrypt", "swap"),
        ("encrypt", "file"),
        ("decrypt", "file"),
        ("decrypt", "copy"),
        ("decrypt", "swap"),
    ],
)
def test_a_kill_in_the_middle_leaves_the_timeline_whole_and_a_rerun_finishes(paths, direction, step):
    _fill(Store(paths.db))
    images = FrameImages(paths.frames)
    refs = [images.save(f"f{i}.png", "2026-03-02", _screen()) for i in range(3)]
    if direction == "decrypt":
        convert.encrypt(paths, PASS)
    keys.remember(paths.data, None)
    before = _dump(paths, _secret_or_none(paths))
    script = (
        f"import sys; sys.path.insert(0, {str(SRC)!r})\n"
        "from lifelog.paths import Paths\nfrom lifelog.store import convert\n"
        f"convert.{direction}(Paths.from_env(), {PASS!r})\n"
    )
    env = {**os.environ, "LIFELOG_TEST_CONVERT_DIE_AT": step}
    proc = subprocess.run([sys.executable, "-c", script], env=env, timeout=120, capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    # whole: every row and every frame reads, whatever the state
    assert _dump(paths, _secret_or_none(paths)) == before
    for ref in refs:
        assert np.array_equal(FrameImages(paths.frames).load(ref), _screen())
    # the rerun finishes the job
    getattr(convert, direction)(paths, PASS)
    want_sealed = direction == "encrypt"
    assert crypt.is_encrypted_file(paths.db) == want_sealed == keys.is_encrypted(paths.data)
    assert all(sealed.is_sealed((paths.frames / r).read_bytes()) == want_sealed for r in refs)
    assert _dump(paths, _secret_or_none(paths)) == before
    assert not list(paths.data.glob(".*convert*"))


def _secret_or_none(paths: Paths) -> str | None:
    if not crypt.is_encrypted_file(paths.db):
        return None
    return keys.db_secret(keys.data_key(paths.data))


def test_spooled_frames_and_audio_chunks_are_sealed_and_read_back(paths):
    from datetime import datetime

    from lifelog.models import SpooledFrame, VisibleWindow, WindowInfo
    from lifelog.spool.audio import Chunk, read_chunk, write_chunk
    from lifelog.spool.frames import read_frame, write_frame

    _encrypt_new(paths)
    image = _screen()
    frame = SpooledFrame(
        ts=at(0),
        monitor=0,
        width=200,
        height=120,
        region=(0, 0, 200, 120),
        keyframe=True,
        window=WindowInfo("xterm", CANARY_TITLE),
        image=image,
        windows=[VisibleWindow("xterm", CANARY_TITLE, (0, 0, 200, 120))],
    )
    path = write_frame(paths.spool, frame)
    pcm = (_voice() * 32767).astype("int16")
    chunk = write_chunk(paths.audio_spool, Chunk("mic", datetime(2026, 3, 2, 9), pcm))
    for p in (path, chunk):
        data = p.read_bytes()
        assert sealed.is_sealed(data) and CANARY_TITLE.encode() not in data and b"RIFF" not in data[:64]
    back = read_frame(path)
    assert back.window.title == CANARY_TITLE and np.array_equal(back.image, image)
    assert np.array_equal((read_chunk(chunk)[2] * 32768).astype("int16"), pcm)


@pytest.mark.xvfb
def test_the_capture_child_seals_the_spool_with_the_key_its_owner_sent(paths, screen, monkeypatch, tmp_path):
    from lifelog.capture.loop import CaptureSettings
    from lifelog.capture.process import CaptureProcess
    from lifelog.spool.frames import pending, read_frame

    _encrypt_new(paths)
    assert keys.data_key(paths.data) is not None  # this process, the owner, holds the key
    monkeypatch.delenv(keys.PASSPHRASE_ENV)  # the child could not unwrap it itself
    page = tmp_path / "page.txt"
    page.write_text("sealed spool check\n" * 5)
    screen.show_text(page, title=CANARY_TITLE)
    proc = CaptureProcess.start(paths.spool, CaptureSettings(fps=2.0))
    try:
        wait_for(lambda: pending(paths.spool) or proc.failed(), timeout=60, what="a spooled frame", interval=0.2)
    finally:
        proc.stop()
    assert proc.failed() is None
    spooled = pending(paths.spool)
    assert spooled
    for p in spooled:
        assert sealed.is_sealed(p.read_bytes()) and CANARY_TITLE.encode() not in p.read_bytes()
    assert any(read_frame(p).window.title == CANARY_TITLE for p in spooled)
