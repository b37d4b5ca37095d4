"""Owning the timeline: the one process that holds the DuckDB file and serves everyone else.

``lifelog daemon run`` and ``lifelog record`` both record through :func:`owned_recording`:
claim the owner lock (``ownership.py``: a second owner is refused with a message naming the
first), open the file once (:meth:`Store.open_owner`), serve the facade on the socket with the
recorder's controls (pause, resume, stop, status), and undo all of it in reverse order on the
way out.

Priorities: OCR and ASR run in this (the recorder's) thread, made nicer by ``TOKENIZE_NICE``;
capture processes and the API server are started from a thread that keeps normal priority,
so capture holds its rate and answers stay quick while text recognition works. Chunks of
the timeline are embedded for semantic search by a thread at the lowest priority
(``daemon/embedding.py``); the hours that ended are summarised for outlines every few
minutes (``daemon/hours.py``) and digested while the user is idle (``daemon/digester.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from lifelog.api.forget import finish_pending as finish_forgetting
from lifelog.api.import_slices import finish_pending as finish_importing
from lifelog.api.server import OwnerServer
from lifelog.api.timeline import LocalTimeline
from lifelog.config import Settings
from lifelog.daemon.digester import DigestWorker
from lifelog.daemon.embedding import EmbedWorker
from lifelog.daemon.hours import HourSummariser
from lifelog.daemon.ownership import OwnerLock
from lifelog.daemon.recorder import Recorder, StopSignals
from lifelog.daemon.retention import RetentionWorker
from lifelog.daemon.sleep_time import SleepTime
from lifelog.daemon.supervisor import NormalPriority, lower_this_thread
from lifelog.paths import Paths, clean_stale_temporaries
from lifelog.spool import pending
from lifelog.store import Store, keys

EMBED_WHEN_SPOOL_BELOW = 4  # frames waiting for OCR: more, and the background embedder waits


@contextlib.contextmanager
def owned_recording(
    paths: Paths, settings: Settings, *, role: str, warn: Callable[[str], None], signals: StopSignals
) -> Iterator[Recorder]:
    """A recorder that owns the timeline and serves it while the block runs; checked
    (``preflight``) before it serves, so a client that finds the socket finds it ready."""
    lock = OwnerLock(paths, role)
    normal = NormalPriority()  # before lowering this thread: capture and the API keep their priority
    try:
        clean_leftovers(paths)
        keys.data_key(paths.data)  # an encrypted timeline: its key unwrapped now (or one clear error), held in memory
        store = Store.open_owner(paths.db, busy_timeout=settings.busy_timeout_s)
        try:
            finish_forgetting(paths, store)  # a forget a crash cut short (api/forget.py), a leftover copy
            finish_importing(store)  # uploads a crash left, imports it cut short taken back (api/import_slices.py)
            recorder = Recorder(
                paths, store, settings, warn=warn, daemon=role == "daemon", signals=signals, normal=normal
            )
            lower_this_thread()  # OCR and ASR (loaded and run from here) yield to capture and the user
            recorder.preflight(screen=role != "daemon")  # a daemon waits for a screen; `record` needs one now
            server = normal.run(OwnerServer(paths, LocalTimeline(paths, store, recorder.controls()), lock.info).start)
            embedder = EmbedWorker(store, busy=lambda: embedder_waits(store, paths)).start()
            summariser = HourSummariser(store).start()
            sleep_time = SleepTime(lambda: digester_waits(store, paths), spool=paths.spool)
            digester = DigestWorker(store, busy=sleep_time, settings=settings).start()
            keeper = RetentionWorker(store, paths, settings).start()  # keep_* ages, storage_max
            try:
                yield recorder
            finally:
                keeper.stop()
                digester.stop()
                summariser.stop()
                embedder.stop()
                server.stop()
        finally:
            store.close()
    finally:
        normal.close()
        lock.release()


def clean_leftovers(paths: Paths) -> int:
    """Temporary files of private writes a crash cut short, in the data and config folders; the
    owner calls it once it holds the lock. (The spool, frame and audio folders are the
    pipeline's, cleaned as it takes the spool; a dead owner's socket is replaced at bind.)"""
    return sum(clean_stale_temporaries(folder) for folder in (paths.data, paths.config_dir) if folder.is_dir())


def embedder_waits(store: Store, paths: Paths) -> bool:
    """The background embedder skips a pass while the recorder is behind (frames waiting for
    OCR) or the file is being rewritten (a forget): its vectors would make the rewrite's copy
    stale, and a stale copy is made again, at last under the write lock."""
    return store.rewriting or len(pending(paths.spool)) >= EMBED_WHEN_SPOOL_BELOW


def digester_waits(store: Store, paths: Paths) -> bool:
    """The digester yields at once to capture and OCR: it waits while a frame waits for OCR
    (frames are spooled only when the screen changes) or a rewrite is under way; the rest of
    its rule (AC power, the user away) is ``daemon/sleep_time.py``'s."""
    return store.rewriting or bool(pending(paths.spool))
