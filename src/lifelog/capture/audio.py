"""Audio capture: the microphone and the system output, 16 kHz mono, cut into chunks at
pauses, silence dropped before anything reaches the spool.

Each source is a sounddevice input stream. On Linux the system output is PulseAudio's (or
PipeWire's) monitor of the default sink, opened by pointing ``PULSE_SOURCE`` at
``@DEFAULT_MONITOR@`` while the stream connects. A source that fails or disappears (a headset
unplugged, no sound server) is retried every few seconds; it never stops screen capture,
which runs in another process.

Exclusions (``exclude_audio``): while the focused window is excluded no block of any source
is kept, and the chunk in progress is discarded (capture/audio_gate.py).
"""

from __future__ import annotations

import logging
import os
import queue
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from lifelog.capture.audio_gate import FocusGate
from lifelog.capture.window import WindowSource
from lifelog.spool.audio import RATE, Chunk, write_chunk
from lifelog.spool.level import frame_dbfs
from lifelog.timespec import utcnow

log = logging.getLogger(__name__)

SOURCES = ("mic", "system")


@dataclass
class AudioSettings:
    sources: tuple[str, ...] = SOURCES
    threshold_dbfs: float = -45.0  # quieter than this is silence
    pause_s: float = 0.8  # a pause this long ends a chunk
    max_chunk_s: float = 30.0
    preroll_s: float = 0.3  # keep this much before speech starts
    retry_s: float = 5.0
    exclude_apps: tuple[str, ...] = ()  # while such a window has focus, nothing is kept
    exclude_titles: tuple[str, ...] = ()
    gap_dir: str = ""  # where excluded stretches are spooled as gaps (the frames spool); "": the chunks' folder
    focus_every_s: float = 0.3


@dataclass
class Chunker:
    """Joins blocks of one source into chunks of speech; silent stretches are discarded."""

    source: str
    settings: AudioSettings
    _blocks: list[np.ndarray] = field(default_factory=list)
    _start: datetime | None = None
    _silent_s: float = 0.0
    _preroll: list[tuple[datetime, np.ndarray]] = field(default_factory=list)
    silent_seconds: float = 0.0

    def feed(self, ts: datetime, block: np.ndarray) -> Chunk | None:
        seconds = len(block) / RATE
        loud = bool(np.any(frame_dbfs(block, RATE * 30 // 1000) > self.settings.threshold_dbfs))
        if self._start is None:
            if not loud:
                self._keep_preroll(ts, block)
                self.silent_seconds += seconds
                return None
            self._start = self._preroll[0][0] if self._preroll else ts
            self._blocks = [b for _, b in self._preroll]
            self._preroll = []
        self._blocks.append(block)
        self._silent_s = 0.0 if loud else self._silent_s + seconds
        if self._silent_s >= self.settings.pause_s or self._length() >= self.settings.max_chunk_s:
            return self.flush()
        return None

    def discard(self) -> None:
        """Forget the chunk in progress and the pre-roll, unkept."""
        self._start, self._blocks, self._silent_s, self._preroll = None, [], 0.0, []

    def flush(self) -> Chunk | None:
        if self._start is None:
            return None
        chunk = Chunk(self.source, self._start, np.concatenate(self._blocks))
        self._start, self._blocks, self._silent_s = None, [], 0.0
        return chunk

    def _length(self) -> float:
        return sum(len(b) for b in self._blocks) / RATE

    def _keep_preroll(self, ts: datetime, block: np.ndarray) -> None:
        self._preroll.append((ts, block))
        while sum(len(b) for _, b in self._preroll) / RATE > self.settings.preroll_s and len(self._preroll) > 1:
            self._preroll.pop(0)


class SourceStream:
    """One sounddevice input stream feeding timestamped int16 blocks into a queue."""

    def __init__(self, source: str, out: queue.Queue[tuple[str, datetime, np.ndarray]]) -> None:
        self.source = source
        self.out = out
        self.stream = None
        self.overflows = 0

    def open(self) -> None:
        import sounddevice as sd

        device = _pulse_device(sd)
        saved = os.environ.get("PULSE_SOURCE")
        if self.source == "system":
            if device is None:
                raise RuntimeError("system audio needs PulseAudio or PipeWire (no 'pulse' device)")
            os.environ["PULSE_SOURCE"] = "@DEFAULT_MONITOR@"
        try:
            # latency="high": large host buffers, so a loaded machine delays blocks instead
            # of dropping samples (a dropout garbles the words around it).
            stream = sd.InputStream(
                device=device,
                samplerate=RATE,
                channels=1,
                dtype="int16",
                blocksize=RATE // 10,
                latency="high",
                callback=self._callback,
            )
            stream.start()
        finally:
            if self.source == "system":
                _restore_env("PULSE_SOURCE", saved)
        self.stream = stream

    def _callback(self, data, frames, _time, status) -> None:
        if status.input_overflow:
            self.overflows += 1
        if status:
            log.debug("%s audio status: %s", self.source, status)
        ts = utcnow() - timedelta(seconds=frames / RATE)
        self.out.put((self.source, ts, data[:, 0].copy()))

    def alive(self) -> bool:
        return self.stream is not None and self.stream.active

    def close(self) -> None:
        if self.stream is not None:
            try:
                self.stream.close()
            except Exception:  # the device may already be gone
                pass
            self.stream = None


def _pulse_device(sd) -> int | None:
    for i, dev in enumerate(sd.query_devices()):
        if dev["name"] == "pulse" and dev["max_input_channels"] > 0:
            return i
    return None


def _restore_env(key: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = value


AUDIO_COUNTERS = ("chunks", "voiced_ms", "silent_ms", "open_failures", "sources_open", "overflows")


class AudioLoop:
    """Runs every configured source, chunks speech and spools it. ``counters`` is indexed like
    AUDIO_COUNTERS; ``problems`` (optional dict-like) receives the last error per source."""

    def __init__(
        self, folder: Path, settings: AudioSettings, counters, problems=None, windows: WindowSource | None = None
    ) -> None:
        self.folder = folder
        self.settings = settings
        self.counters = counters
        self.problems = problems if problems is not None else {}
        self.queue: queue.Queue = queue.Queue()
        self.streams = {s: SourceStream(s, self.queue) for s in settings.sources}
        self.chunkers = {s: Chunker(s, settings) for s in settings.sources}
        self._next_try = {s: 0.0 for s in settings.sources}
        self.focus = FocusGate(settings, Path(settings.gap_dir) if settings.gap_dir else folder, windows)

    def run(self, stop) -> None:
        while not stop.is_set():
            self._reopen()
            try:
                source, ts, block = self.queue.get(timeout=0.2)
            except queue.Empty:
                self.idle()
                continue
            self.take(source, ts, block)

    def take(self, source: str, ts: datetime, block: np.ndarray) -> None:
        """One block: dropped, with any chunk in progress, while the focus is excluded; else
        chunked, and the chunks a focus check has cleared are spooled."""
        if not self.focus.keeps(ts):
            for chunker in self.chunkers.values():
                chunker.discard()
            self.focus.release(True)
            return
        self.focus.hold(self.chunkers[source].feed(ts, block))
        self._spool_all(self.focus.release(False))

    def idle(self) -> None:
        """No block came: still check the focus, so held chunks are spooled or dropped."""
        excluded = self.focus.check()
        self._spool_all(self.focus.release(excluded))

    def _spool_all(self, chunks: list[Chunk]) -> None:
        for chunk in chunks:
            self._spool(chunk)

    def _reopen(self) -> None:
        now = time.monotonic()
        for source, stream in self.streams.items():
            if stream.alive() or now < self._next_try[source]:
                continue
            stream.close()
            self._next_try[source] = now + self.settings.retry_s
            try:
                stream.open()
                self.problems[source] = ""
            except Exception as exc:  # no device, no server, device unplugged
                self._count("open_failures")
                message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                self.problems[source] = message
                log.info("%s audio unavailable: %s", source, message)
        self.counters[AUDIO_COUNTERS.index("sources_open")] = sum(s.alive() for s in self.streams.values())
        self.counters[AUDIO_COUNTERS.index("overflows")] = sum(s.overflows for s in self.streams.values())

    def _spool(self, chunk: Chunk | None) -> None:
        if chunk is None:
            return
        try:
            write_chunk(self.folder, chunk)
        except OSError as exc:
            log.error("cannot spool audio: %s", exc)
            return
        self._count("chunks")
        self._count("voiced_ms", int(len(chunk.samples) * 1000 / RATE))

    def _count(self, name: str, n: int = 1) -> None:
        self.counters[AUDIO_COUNTERS.index(name)] += n

    def close(self) -> None:
        for source, stream in self.streams.items():
            stream.close()
            self.focus.hold(self.chunkers[source].flush())
        self._spool_all(self.focus.release(self.focus.check(force=True)))
        self.focus.close()
        silent = sum(c.silent_seconds for c in self.chunkers.values())
        self.counters[AUDIO_COUNTERS.index("silent_ms")] = int(silent * 1000)
