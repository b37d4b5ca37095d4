"""Opening the database: a damaged file is reported at once, only a real lock is waited for."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lifelog.errors import StoreBusy, StoreError
from lifelog.store import Store
from tests.store.timeline_helpers import at, observe, worker

BLOCK = 256 * 1024  # DuckDB's block size; the file is a 12 KiB header, then checksummed blocks
HEADER = 12 * 1024


def recorded_db(path: Path) -> Path:
    store = Store(path)
    store.migrate()
    with store.write() as w:
        for i in range(200):
            observe(w, at(i), [f"invoice {i} total", "static header"])
        w.refresh_search_index()
    return path


def damage_every_block(path: Path) -> None:
    """Overwrite 4 KiB in the middle of every block, as a bad disk sector or a torn copy would:
    the catalog's blocks are among them, so DuckDB's checksum check fails while opening."""
    with open(path, "r+b") as fh:
        for start in range(HEADER, path.stat().st_size, BLOCK):
            fh.seek(start + BLOCK // 2)
            fh.write(b"not a duckdb block " * 215)


def damage_header(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.write(b"\0garbage" * 512)


# "blocklist" and "clockwork": a folder name containing "lock" must not make an error look like a lock
@pytest.mark.parametrize(
    "folder,damage",
    [
        ("home", damage_every_block),
        ("clockwork", damage_header),
        ("blocklist", damage_every_block),
    ],
)
@pytest.mark.parametrize("mode", ["read", "write"])
def test_a_damaged_file_is_reported_at_once_not_waited_for(tmp_path, folder, damage, mode):
    db = recorded_db(tmp_path / folder / "lifelog.duckdb")
    damage(db)
    store = Store(db, busy_timeout=10)
    started = time.monotonic()
    with pytest.raises(StoreError) as info:
        with getattr(store, mode)() as r:
            r.stats()
    assert time.monotonic() - started < 2.0  # not retried until the busy timeout
    assert not isinstance(info.value, StoreBusy)
    message = str(info.value)
    assert str(db) in message
    assert "is damaged and could not be opened" in message
    assert "locked" not in message
    assert "move it aside" in message


def test_a_lock_held_by_another_process_is_still_waited_for(tmp_path):
    db = recorded_db(tmp_path / "blocklist" / "lifelog.duckdb")
    holder = worker("hold", str(db), "3")
    try:
        assert holder.stdout.readline().strip() == "ready", holder.stderr.read()
        started = time.monotonic()
        with pytest.raises(StoreBusy) as info:
            with Store(db, busy_timeout=0.5).read():
                pass
        assert 0.4 < time.monotonic() - started < 2.5
    finally:
        holder.wait(timeout=30)
    message = str(info.value)
    assert f"locked by another process (PID {holder.pid})" in message
    # advice that exists: there is no `lifelog daemon`; the holder is stopped by its PID
    assert "daemon" not in message
    assert f"kill {holder.pid}" in message
    assert "lifelog record" in message
    assert "busy_timeout_s" in message
