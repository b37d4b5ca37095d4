"""Run the capture loop in its own process, so OCR in the parent can never slow it down."""

from __future__ import annotations

import logging
import multiprocessing as mp
import signal
from dataclasses import dataclass
from pathlib import Path

from lifelog.capture.loop import COUNTERS, CaptureLoop, CaptureSettings

log = logging.getLogger(__name__)


def _child(spool_dir: str, settings: CaptureSettings, stop, counters, failure) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when capture stops
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        loop = CaptureLoop(Path(spool_dir), settings, counters)
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
    stop_event: object
    counters: object
    failure: object

    @classmethod
    def start(cls, spool_dir: Path, settings: CaptureSettings) -> "CaptureProcess":
        ctx = mp.get_context("spawn")
        stop = ctx.Event()
        counters = ctx.Array("q", len(COUNTERS), lock=False)
        failure = ctx.Array("c", 512, lock=False)
        proc = ctx.Process(
            target=_child, args=(str(spool_dir), settings, stop, counters, failure),
            name="lifelog-capture", daemon=True,
        )
        proc.start()
        return cls(proc, stop, counters, failure)

    def counts(self) -> dict[str, int]:
        return dict(zip(COUNTERS, list(self.counters)))

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
