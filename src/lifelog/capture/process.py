"""Run a capture loop (screen or audio) in its own process, so OCR and ASR in the parent can
never slow it down, and a failing audio device can never stop screen capture."""

from __future__ import annotations

import ctypes
import logging
import multiprocessing as mp
import multiprocessing.synchronize
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from lifelog.capture.audio import AUDIO_COUNTERS, AudioLoop, AudioSettings
from lifelog.capture.loop import COUNTERS, CaptureLoop, CaptureSettings

log = logging.getLogger(__name__)


class SourceProblems:
    """The last problem of each audio source, in shared memory the child writes and the parent
    reads. (A multiprocessing Manager would be one more process, and a terminal's Ctrl-C kills it.)"""

    SIZE = 256

    def __init__(self, ctx, names: tuple[str, ...]) -> None:
        self.names = names
        self.buf = ctx.Array("c", self.SIZE * len(names), lock=False)

    def __setitem__(self, name: str, text: str) -> None:
        start = self.names.index(name) * self.SIZE
        self.buf[start : start + self.SIZE] = text.encode()[: self.SIZE - 1].ljust(self.SIZE, b"\0")

    def as_dict(self) -> dict[str, str]:
        raw = bytes(self.buf[:])
        return {
            n: raw[i * self.SIZE : (i + 1) * self.SIZE].rstrip(b"\0").decode(errors="replace")
            for i, n in enumerate(self.names)
        }


def _build(folder: Path, settings, counters, problems):
    if isinstance(settings, AudioSettings):
        return AudioLoop(folder, settings, counters, problems)
    return CaptureLoop(folder, settings, counters)


class ParentWatch:
    """The stop flag a capture child runs on: set when the parent sets ``stop``, when this
    process gets SIGTERM (sent by the kernel when the parent dies, see ``_die_with_parent``,
    or by ``kill``), or when the parent is found gone. A child never outlives its parent,
    even one killed with SIGKILL that could not tell it to stop."""

    POLL_S = 0.25

    def __init__(self, stop, parent_pid: int) -> None:
        self._stop = stop
        self._parent = parent_pid
        self.terminated = False  # set by the SIGTERM handler: a plain attribute is signal-safe

    def is_set(self) -> bool:
        return self.terminated or self._stop.is_set() or os.getppid() != self._parent

    def wait(self, timeout: float | None = None) -> bool:
        remaining = float("inf") if timeout is None else timeout
        while not self.is_set() and remaining > 0:
            step = min(self.POLL_S, remaining)
            self._stop.wait(step)
            remaining -= step
        return self.is_set()


def _die_with_parent() -> None:
    """Ask Linux to send SIGTERM to this process when its parent dies (PR_SET_PDEATHSIG).
    Elsewhere ``ParentWatch`` notices the new parent id within a quarter second."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError) as exc:  # pragma: no cover - no prctl: polling still works
        log.debug("PR_SET_PDEATHSIG unavailable: %s", exc)


def _child(folder: str, settings, stop, counters, failure, problems, parent_pid: int, unlocked=None) -> None:
    watch = ParentWatch(stop, parent_pid)
    if unlocked:  # an encrypted timeline: the owner's keys, sent over the start pipe, seal the spool
        from lifelog.store import keys  # (and installs the spool's sealing)

        keys.import_unlocked(unlocked)

    def terminate(_signum, _frame) -> None:
        watch.terminated = True

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is for the parent, which stops us
    signal.signal(signal.SIGTERM, terminate)  # finish the frame in flight, then stop
    _die_with_parent()
    if watch.is_set():  # the parent died before the request above took effect
        return
    try:
        loop = _build(Path(folder), settings, counters, problems)
    except Exception as exc:
        failure.value = str(exc).encode()[:500]
        return
    try:
        loop.run(watch)
    except Exception as exc:  # e.g. the screen is gone for good: tell the parent why
        failure.value = str(exc).encode()[:500]
    finally:
        try:
            loop.close()
        except Exception as exc:  # the display may be gone already
            log.debug("closing the capture loop failed: %s", exc)


@dataclass
class CaptureProcess:
    """Handle on a running capture child: ``counts()`` reads its counters live."""

    process: mp.process.BaseProcess
    names: tuple[str, ...]
    stop_event: mp.synchronize.Event
    counters: ctypes.Array[ctypes.c_int64]  # in shared memory, written by the child
    failure: ctypes.Array[ctypes.c_char]
    problems: SourceProblems | None

    @classmethod
    def start(cls, folder: Path, settings: CaptureSettings | AudioSettings) -> CaptureProcess:
        ctx = mp.get_context("spawn")
        names = AUDIO_COUNTERS if isinstance(settings, AudioSettings) else COUNTERS
        stop = ctx.Event()
        counters = ctx.Array("q", len(names), lock=False)
        failure = ctx.Array("c", 512, lock=False)
        problems = SourceProblems(ctx, settings.sources) if isinstance(settings, AudioSettings) else None
        kind = "audio" if isinstance(settings, AudioSettings) else "screen"
        from lifelog.store import keys  # the store is imported already in an owner

        unlocked = keys.export_unlocked()  # in memory only: pickled over the child's start pipe
        proc = ctx.Process(
            target=_child,
            args=(str(folder), settings, stop, counters, failure, problems, os.getpid(), unlocked),
            name=f"lifelog-{kind}",
            daemon=True,
        )
        proc.start()
        return cls(proc, names, stop, counters, failure, problems)

    def counts(self) -> dict[str, int]:
        return dict(zip(self.names, list(self.counters)))

    def source_problems(self) -> dict[str, str]:
        return {k: v for k, v in self.problems.as_dict().items() if v} if self.problems else {}

    def failed(self) -> str | None:
        """Why the child stopped when nobody asked it to (None while it runs or after ``stop``)."""
        if self.process.is_alive():
            return None
        msg = bytes(self.failure.value).decode(errors="replace")
        if msg or self.stop_event.is_set():
            return msg or None
        return f"capture process exited unexpectedly (exit code {self.process.exitcode})"

    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        self.process.join(timeout)
        if self.process.is_alive():
            log.warning("capture process did not stop in %.0fs; terminating it", timeout)
            self.process.terminate()
            self.process.join(2)
