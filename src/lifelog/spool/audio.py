"""The audio half of the spool between capture and ingest.

A chunk of speech is one 16 kHz mono 16-bit WAV file whose name carries its start time (UTC)
and source (``mic`` or ``system``). Files are written to a dot-prefixed temporary name,
fsynced and renamed, like spooled frames, and deleted only after their transcripts commit.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from lifelog.paths import atomic_private_file, make_private_dir
from lifelog.spool import sealing

RATE = 16000
AUDIO_SUFFIX = ".wav"


@dataclass
class Chunk:
    source: str
    start: datetime
    samples: np.ndarray  # int16


def chunk_name(chunk: Chunk) -> str:
    return f"{chunk.start.strftime('%Y%m%dT%H%M%S%f')}-{chunk.source}{AUDIO_SUFFIX}"


def parse_chunk_name(name: str) -> tuple[datetime, str]:
    stamp, source = Path(name).stem.rsplit("-", 1)
    return datetime.strptime(stamp, "%Y%m%dT%H%M%S%f"), source


def write_chunk(folder: Path, chunk: Chunk) -> Path:
    """Atomically write a chunk as 16 kHz mono 16-bit WAV; the name carries time and source."""
    make_private_dir(folder)
    final = folder / chunk_name(chunk)
    with atomic_private_file(final) as raw, sealing.for_folder(folder).writer(raw) as fh, wave.open(fh, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(chunk.samples.astype("<i2").tobytes())
    return final


def read_chunk(path: Path) -> tuple[datetime, str, np.ndarray]:
    """(start time, source, float32 samples) of a spooled chunk."""
    start, source = parse_chunk_name(path.name)
    with wave.open(sealing.for_folder(path.parent).open(path), "rb") as w:
        if w.getframerate() != RATE or w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise ValueError(f"{path.name}: not a 16 kHz mono 16-bit chunk")
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    return start, source, data.astype(np.float32) / 32768.0


def pending_chunks(folder: Path) -> list[Path]:
    if not folder.exists():
        return []
    return sorted(
        (p for p in folder.iterdir() if p.suffix == AUDIO_SUFFIX and not p.name.startswith(".")), key=lambda p: p.name
    )
