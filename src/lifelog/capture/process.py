"""Run a capture loop (screen or audio) in its own process, so OCR and ASR in the parent can
never slow it down, and a failing audio device can never stop screen capture."""

from __future__ import annotations

import logging
import multiprocessing as mp
import signal
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
        return {n: raw[i * self.SIZE : (i + 1) * self.SIZE].rstrip(b"\0").decode(errors="replace")
                for i, n in enumerate(self.names)}


def _build(folder: Path, settings, counters, problems):
    if isinstance(settings, AudioSettings):
        return AudioLoop(folder, settings, counters, problems)
    return CaptureLoop(folder, settings, counters)


def _child(folder: str, settings, stop, counters, failure, problems) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when capture stops
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        loop = _build(Path(folder), settings, counters, problems)
    except Exception as exc:
        failure.value = str(exc).encode()[:500]
        return
    try:
        loop.run(stop)
    finally:
        loop.close()


@dataclass
class CaptureProcess:
    """Handle on a running capture child: ``counts()`` reads its counters live."""

    process: mp.Process
    names: tuple[str, ...]
    stop_event: object
    counters: object
    failure: object
    problems: object

    @classmethod
    def start(cls, folder: Path, settings: CaptureSettings | AudioSettings) -> "CaptureProcess":
        ctx = mp.get_context("spawn")
        names = AUDIO_COUNTERS if isinstance(settings, AudioSettings) else COUNTERS
        stop = ctx.Event()
        counters = ctx.Array("q", len(names), lock=False)
        failure = ctx.Array("c", 512, lock=False)
        problems = SourceProblems(ctx, settings.sources) if isinstance(settings, AudioSettings) else None
        kind = "audio" if isinstance(settings, AudioSettings) else "screen"
        proc = ctx.Process(target=_child, args=(str(folder), settings, stop, counters, failure, problems),
                           name=f"lifelog-{kind}", daemon=True)
        proc.start()
        return cls(proc, names, stop, counters, failure, problems)

    def counts(self) -> dict[str, int]:
        return dict(zip(self.names, list(self.counters)))

    def source_problems(self) -> dict[str, str]:
        return {k: v for k, v in self.problems.as_dict().items() if v} if self.problems else {}

    def failed(self) -> str | None:
        if self.process.is_alive():
            return None
        msg = bytes(self.failure.value).decode(errors="replace")
        return msg or (f"capture process exited with code {self.process.exitcode}" if self.process.exitcode else None)

    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        self.process.join(timeout)
        if self.process.is_alive():
            log.warning("capture process did not stop in %.0fs; terminating it", timeout)
            self.process.terminate()
            self.process.join(2)
