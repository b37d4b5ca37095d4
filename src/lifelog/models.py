"""Plain data passed between lifelog's layers. No behaviour beyond small derived views."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

Box = tuple[int, int, int, int]
"""Axis-aligned box in full-frame pixel coordinates: (left, top, right, bottom), right/bottom exclusive."""


@dataclass(frozen=True)
class WindowInfo:
    """The focused application and window title when a frame was captured."""

    app: str = ""
    title: str = ""


@dataclass(frozen=True)
class VisibleWindow:
    """A window shown on a monitor when a frame was captured: its app, title and rectangle in
    that monitor's pixel coordinates (it may reach beyond the monitor's edges)."""

    app: str
    title: str
    box: Box


@dataclass
class SpooledFrame:
    """A kept frame as capture writes it to the spool and ingest reads it back.

    ``image`` holds the pixels of ``region`` only: a PIL image when capture writes it, an RGB
    HxWx3 uint8 array when read back. A keyframe's region is the whole monitor; other frames
    carry just the part of the screen that changed.
    """

    ts: datetime  # UTC, naive
    monitor: int
    width: int
    height: int
    region: Box
    keyframe: bool
    window: WindowInfo
    image: object  # PIL.Image or numpy.ndarray; untyped so this module imports neither
    path: Path | None = None  # the spool file, set when read back
    shed_from: datetime | None = None  # capture shed changes from then until this keyframe
    shed_frames: int = 0  # how many (OCR was behind; see capture/loop.py)
    windows: list[VisibleWindow] = field(default_factory=list)  # visible windows, topmost first


@dataclass(frozen=True)
class OcrLine:
    """One line of text recognised on screen, in full-frame coordinates.

    After layout (``tokenize_media/ocr/layout.py``) a line is a row of a block, and also says
    where it stands in reading order on its frame (``ord``), what goes before its text when it
    is shown (``lead``: a newline where a paragraph, column or pane begins, ``# `` for a
    heading, spaces for the indentation of monospace text), and the app and title of the
    window it lies in (None: the focused window's).
    """

    text: str
    box: Box
    score: float = 1.0
    ord: int = 0
    lead: str = ""
    app: str | None = None
    window: str | None = None
    glyphs: Any = field(default=None, compare=False, repr=False)
    """Where the recogniser read each character (``ocr.ctc.Glyphs``), for layout; None when unknown."""


@dataclass
class FrameRecord:
    """A frame as stored in the timeline."""

    ts: datetime
    monitor: int
    width: int
    height: int
    app: str
    window: str
    image_ref: str
    region: Box
    keyframe: bool
    ocr_ms: float = 0.0
    ocr_failed: bool = False
    id: int | None = None
    source_key: str = ""  # the spool file it came from: storing it twice is a no-op


@dataclass
class TextSpan:
    """Text seen on screen, with the time range it stayed visible."""

    t_start: datetime
    t_end: datetime
    monitor: int
    app: str
    window: str
    text: str
    top: int = 0
    left: int = 0
    frame_id: int | None = None
    id: int | None = None


@dataclass
class Transcript:
    """Text heard: one cleaned Whisper segment with absolute times."""

    t_start: datetime
    t_end: datetime
    source: str  # "mic", "system", or "file" for imported recordings
    engine: str  # ASR engine id, e.g. "faster-whisper"
    text: str
    tokens: int = 0  # o200k count of text
    chunk_id: int | None = None
    id: int | None = None
    language: str = ""  # Whisper's code of the language heard (zh, en, ...); "" when not known
    speaker: str = ""  # who spoke, as shown: a voice's name, "me", or "Speaker N"; "" when not told
    heard_as: int | None = None  # before it is stored: its speaker's index in the recording's voices


@dataclass(frozen=True)
class HeardVoice:
    """A voice told apart in one recording or chunk (``speakers.diarize``), before it is matched
    to the voices already known: its unit-length 192-dim centroid and how long it spoke."""

    centroid: list[float]
    seconds: float


@dataclass
class AudioChunkRecord:
    """A stretch of voiced audio kept for replay (the audio file lives beside the database)."""

    t_start: datetime
    t_end: datetime
    source: str
    audio_ref: str  # path relative to the audio folder; "" when not kept
    voiced_s: float
    id: int | None = None
    source_key: str = ""  # the spool chunk it came from: storing it twice is a no-op


@dataclass
class SearchHit:
    """A match: text seen on screen (``span``) or heard (``transcript``)."""

    score: float
    span: TextSpan | None = None
    transcript: Transcript | None = None

    @property
    def kind(self) -> str:
        return "heard" if self.transcript is not None else "seen"


@dataclass
class StoreStats:
    frames: int = 0
    keyframes: int = 0
    ocr_failures: int = 0
    text_spans: int = 0
    transcripts: int = 0
    audio_chunks: int = 0
    audio_voiced_s: float = 0.0
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    db_bytes: int = 0
    frame_bytes: int = 0
    counters: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Picture:
    """A screen as sent: PNG bytes and what it shows (``meta``: time, monitor, app, window, size)."""

    png: bytes
    meta: dict
