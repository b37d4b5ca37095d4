"""Gap markers capture left in the spool (spool/gaps.py) stored as ``gap`` events, then
deleted; a marker that cannot be decoded is set aside in ``spool/bad``, a busy store or a
passing I/O error (raised to the pipeline) leaves them for the next drain."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from lifelog.errors import StoreBusy
from lifelog.paths import make_private_dir
from lifelog.spool import transient
from lifelog.spool.gaps import pending_gaps, read_gap

log = logging.getLogger(__name__)


def store_gaps(store, folder: Path) -> int:
    """Store every gap marker in ``folder`` in one transaction; returns how many."""
    gaps = []
    for path in pending_gaps(folder):
        try:
            gaps.append((path, read_gap(path)))
        except (OSError, ValueError) as exc:
            if transient(exc):  # not the marker's fault (out of file descriptors, EIO): it stays for later
                raise
            make_private_dir(folder / "bad")
            log.error("unreadable gap marker %s moved to %s: %s", path.name, folder / "bad", exc)
            os.replace(path, folder / "bad" / path.name)
    if not gaps:
        return 0
    try:
        with store.write() as w:
            for _, gap in gaps:
                w.add_event(*gap.event())
    except StoreBusy as exc:
        log.warning("store busy, %d gaps stay in the spool: %s", len(gaps), exc)
        return 0
    for path, _ in gaps:
        path.unlink(missing_ok=True)
    return len(gaps)
