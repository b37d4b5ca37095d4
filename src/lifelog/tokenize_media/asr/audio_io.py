"""Decode audio files into what Whisper reads: float32 mono samples at 16 kHz.

PyAV (which faster-whisper already depends on) bundles FFmpeg, so WAV, MP3, FLAC, M4A/AAC,
Opus and the audio track of video files all decode without a system ffmpeg. Every failure
becomes a UsageError naming the file, because a bad import file is the user's to fix.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from lifelog.errors import EngineError, UsageError
from lifelog.tokenize_media.asr.base import SAMPLE_RATE

log = logging.getLogger(__name__)


def decode_audio(path: str | Path, rate: int = SAMPLE_RATE) -> np.ndarray:
    """All samples of the first audio stream of ``path``, mixed to mono and resampled to ``rate``."""
    path = Path(path)
    av = _import_av()
    if not path.is_file():
        raise UsageError(f"Cannot decode {path.name}: no such file ({path}).")
    try:
        samples = _decode(av, path, rate)
    except (av.FFmpegError, ValueError, IndexError, EOFError, OSError) as exc:
        raise UsageError(f"Cannot decode {path.name}: {_reason(exc)}. Is it an audio file?") from exc
    log.debug("decoded %s: %.1f s", path.name, samples.size / rate)
    return samples


def _decode(av, path: Path, rate: int) -> np.ndarray:
    with av.open(str(path), mode="r", metadata_errors="ignore") as container:
        if not container.streams.audio:
            raise ValueError("it has no audio stream")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = [_frames(resampler.resample(frame)) for frame in container.decode(stream)]
        chunks.append(_frames(resampler.resample(None)))  # flush the resampler's tail
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if samples.size == 0:
        raise ValueError("no audio samples could be decoded")
    return samples


def _frames(frames) -> np.ndarray:
    """Packed mono float frames as one flat array."""
    if not frames:
        return np.zeros(0, np.float32)
    return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.float32, copy=False)


def _reason(exc: Exception) -> str:
    """FFmpeg's own words without the repeated file name PyAV appends."""
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(": '")[0].strip().rstrip(".") or type(exc).__name__


def _import_av():
    try:
        import av
    except ImportError as exc:
        raise EngineError("Decoding audio files needs PyAV; install it with: pip install 'lifelog[audio]'") from exc
    return av
