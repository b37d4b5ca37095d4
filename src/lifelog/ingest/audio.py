"""Drain spooled audio chunks through VAD + Whisper into transcripts, and import recordings.

Each chunk is committed in its own transaction (a chunk is seconds of ASR work, so batching
buys nothing) and deleted from the spool only after its commit; it carries its spool file's
name as ``source_key``, so a chunk replayed after a crash between commit and deletion is not
stored twice. Voiced audio that produced
speech is kept as Opus for replay. An import transcribes the whole file first; the caller
writes everything in ONE transaction, so a failure leaves nothing half-imported.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from lifelog.errors import StoreBusy
from lifelog.models import AudioChunkRecord, HeardVoice, Transcript
from lifelog.paths import Paths, make_private_dir
from lifelog.spool import transient
from lifelog.spool.audio import pending_chunks, read_chunk
from lifelog.store import Store
from lifelog.store.audio_files import AudioFiles
from lifelog.tokenize_media.asr.speaker_turns import Turn
from lifelog.tokenize_media.redact import Redactor
from lifelog.tokenize_media.redact import default as default_redactor
from lifelog.tokenize_media.tokenizers import get_tokenizer

log = logging.getLogger(__name__)

RATE = 16000
IMPORT_PIECE_S = 30.0
UNAVAILABLE_RETRY_S = 1.0  # after a passing I/O error reading a chunk, before the drain gives way


@dataclass
class AudioStats:
    chunks: int = 0
    transcripts: int = 0
    audio_s: float = 0.0
    asr_s: float = 0.0
    failures: int = 0


def transcripts_for(
    segments,
    start: datetime,
    source: str,
    engine_id: str,
    tokenizer: str = "o200k",
    redactor: Redactor | None = None,
    turns: Sequence[Turn] = (),
    offset: float = 0.0,
) -> list[Transcript]:
    """Whisper segments (seconds from ``start``) as timeline transcripts with token counts,
    secrets heard replaced by their markers (``redact.py``), each with the speaker whose
    ``turns`` (seconds from ``start - offset``) it overlaps most."""
    redactor = redactor or default_redactor()
    texts = [redactor.redact(s.text.strip())[0] for s in segments]
    counts = get_tokenizer(tokenizer).count_many(texts)
    return [
        Transcript(
            t_start=start + timedelta(seconds=s.start),
            t_end=start + timedelta(seconds=max(s.end, s.start)),
            source=source,
            engine=engine_id,
            text=text,
            tokens=n,
            language=s.language,
            heard_as=speaker_of(turns, offset + s.start, offset + max(s.end, s.start)),
        )
        for s, text, n in zip(segments, texts, counts)
        if text
    ]


def speaker_of(turns: Sequence[Turn], start: float, end: float) -> int | None:
    """The speaker of the turn that overlaps [start, end] most, else the nearest turn's (a
    segment's times are Whisper's guess and may fall in a pause); None without turns."""
    if not turns:
        return None
    best = max(turns, key=lambda t: (min(end, t.end) - max(start, t.start), -abs(t.start - start)))
    return best.speaker


@dataclass
class Told:
    """Who spoke when in some audio (``tell_speakers``): the turns, each voice found, and one
    line on it for people ("2 speakers in 34.0 s of speech", "one speaker: ... too little")."""

    turns: list[Turn] = field(default_factory=list)
    voices: list[HeardVoice] = field(default_factory=list)
    note: str = ""


def tell_speakers(samples: np.ndarray, enabled: bool = True) -> Told:
    """Who spoke when in 16 kHz ``samples`` (``speakers.diarize``); nothing when disabled or
    when it fails (logged: the transcripts are stored without speakers)."""
    if not enabled or not len(samples):
        return Told()
    from lifelog.tokenize_media.asr.speakers import diarize

    try:
        found = diarize(samples)
    except Exception as exc:
        log.error("cannot tell speakers apart: %s", exc)
        return Told(note=f"speakers not told apart: {exc}")
    voices = [HeardVoice([float(x) for x in c], s) for c, s in zip(found.centroids, found.seconds)]
    return Told(found.turns, voices, found.describe())


class AudioPipeline:
    def __init__(
        self,
        store: Store,
        paths: Paths,
        *,
        engine_id: str = "faster-whisper",
        model_path: str | None = None,
        model: str | None = None,
        engine=None,
        language: str | None = None,
        script: str = "as-heard",
        redactor: Redactor | None = None,
        speakers: bool = True,
    ) -> None:
        self.store = store
        self.speakers = speakers
        self.paths = paths
        self.files = AudioFiles(paths.audio)
        self._engine = engine
        self._engine_id = engine_id
        self._model = {"model": model, "model_path": model_path, "language": language}
        self.script = script
        self.redactor = redactor or default_redactor()
        self.totals = AudioStats()
        self._waiting = False  # a passing I/O error was logged and has not yet cleared

    @classmethod
    def from_settings(cls, store: Store, paths: Paths, settings) -> AudioPipeline:
        """The pipeline the configuration asks for; its ASR settings are checked now when audio is
        recorded (ConfigError, exit 2, before anything is), the model is loaded with the first chunk."""
        from lifelog.tokenize_media.asr import check_settings, settings_options

        if settings.audio_sources:
            check_settings(settings)
        return cls(
            store,
            paths,
            engine_id=settings.asr_engine,
            script=settings.chinese_script,
            redactor=Redactor.from_settings(settings),
            speakers=settings.speakers,
            **settings_options(settings),
        )

    @property
    def engine(self):
        if self._engine is None:
            from lifelog.tokenize_media.asr import get_asr

            self._engine = get_asr(self._engine_id, **self._model)
        return self._engine

    def pending(self) -> list[Path]:
        return pending_chunks(self.paths.audio_spool)

    def drain(
        self, *, should_stop: Callable[[], bool] = lambda: False, progress: Callable[[int, int], None] | None = None
    ) -> AudioStats:
        stats = AudioStats()
        try:
            files = self.pending()
        except OSError as exc:  # out of file descriptors: the spool cannot even be listed now
            if not transient(exc):
                raise
            self._unavailable(f"cannot list the audio spool now ({exc})")
            return stats
        for i, path in enumerate(files):
            if should_stop():
                break
            if not self._process(path, stats):
                break  # store busy: try again on the next drain
            if progress:
                progress(i + 1, len(files))
        return stats

    def _process(self, path: Path, stats: AudioStats) -> bool:
        from lifelog.tokenize_media.asr import transcribe_speech

        try:
            start, source, samples = read_chunk(path)
        except Exception as exc:
            if transient(exc):  # not the chunk's fault (out of file descriptors, EIO): it stays for later
                self._unavailable(f"cannot read audio chunk {path.name} now ({exc})")
                return False
            self._quarantine(path, exc)
            stats.failures += 1
            return True
        if self._waiting:
            log.warning("audio chunks can be read again")
            self._waiting = False
        t = time.perf_counter()
        try:
            segments = transcribe_speech(self.engine, samples, script=self.script)
        except Exception as exc:  # a chunk that fails ASR is logged and counted, never fatal
            log.error("ASR failed on %s: %s", path.name, exc)
            stats.failures += 1
            segments = []
        told = tell_speakers(samples, self.speakers) if segments else Told()
        voices = told.voices
        stats.asr_s += time.perf_counter() - t
        rows = transcripts_for(segments, start, source, self.engine.id, redactor=self.redactor, turns=told.turns)
        ref = self._save_audio(path, start, samples) if rows else ""
        seconds = len(samples) / RATE
        chunk = AudioChunkRecord(start, start + timedelta(seconds=seconds), source, ref, seconds, source_key=path.name)
        try:
            with self.store.write() as w:
                if w.stored_keys("audio_chunks", [path.name], chunk.t_start, chunk.t_start):
                    log.info("audio chunk %s was stored before; not storing it again", path.name)
                    rows = []
                else:
                    chunk_id = w.add_audio_chunk(chunk)
                    for r in rows:
                        r.chunk_id = chunk_id
                    w.add_transcripts(rows, w.add_voices(voices, source, start) if rows else None)
                    if voices:
                        w.mark_calls(source, start)
        except StoreBusy as exc:
            log.warning("store busy, audio chunk %s stays in the spool: %s", path.name, exc)
            return False
        path.unlink(missing_ok=True)
        for s in (stats, self.totals):
            s.chunks += 1
            s.transcripts += len(rows)
            s.audio_s += seconds
        return True

    def _save_audio(self, path: Path, start: datetime, samples: np.ndarray) -> str:
        """Keep the voiced audio for replay; a file that cannot be written (disk full, a broken
        folder) is logged and the transcript is stored without it."""
        try:
            return self.files.save(path.name, start.strftime("%Y-%m-%d"), samples)
        except Exception as exc:
            log.error("cannot keep the audio of %s (its transcript is stored): %s", path.name, exc)
            return ""

    def _unavailable(self, what: str) -> None:
        """Logged once until a chunk is read again; a short wait so a caller's loop does not spin."""
        if not self._waiting:
            log.warning("%s; audio chunks wait in the spool and are tried again", what)
            self._waiting = True
        time.sleep(UNAVAILABLE_RETRY_S)

    def _quarantine(self, path: Path, exc: Exception) -> None:
        bad = self.paths.audio_spool / "bad"
        make_private_dir(bad)
        log.error("unreadable audio chunk %s moved to %s: %s", path.name, bad, exc)
        os.replace(path, bad / path.name)


def transcribe_recording(
    path: Path,
    at: datetime,
    *,
    engine,
    script: str = "as-heard",
    progress: Callable[[int, int], None] | None = None,
    redactor: Redactor | None = None,
    speakers: bool = True,
) -> tuple[list[Transcript], float, Told]:
    """Transcribe an audio file recorded starting at ``at``: its transcripts (absolute times,
    the language detected in each piece of about 30 s, Chinese in ``script``, each with its
    speaker's index in the voices told apart over the whole recording), its length in seconds
    and who spoke. Storing them is the caller's one transaction."""
    from lifelog.tokenize_media.asr import transcribe_speech
    from lifelog.tokenize_media.asr.audio_io import decode_audio

    audio = decode_audio(path)
    bounds = piece_bounds(audio)
    told = tell_speakers(audio, speakers)
    rows: list[Transcript] = []
    for i, (lo, hi) in enumerate(bounds):
        segments = transcribe_speech(engine, audio[int(lo * RATE) : int(hi * RATE)], script=script)
        start = at + timedelta(seconds=lo)
        rows += transcripts_for(segments, start, "file", engine.id, redactor=redactor, turns=told.turns, offset=lo)
        if progress:
            progress(i + 1, len(bounds))
    return rows, len(audio) / RATE, told if rows else Told()  # no words heard (music, noise): no voices


def piece_bounds(audio: np.ndarray, max_s: float = IMPORT_PIECE_S) -> list[tuple[float, float]]:
    """Split a long recording into pieces of about ``max_s`` seconds, cutting in the middle
    of pauses between speech so no word is cut in two (progress is reported per piece)."""
    from lifelog.tokenize_media.asr.vad import energy_regions

    total = len(audio) / RATE
    cuts, piece_start, prev_end = [0.0], 0.0, None
    for start, end in energy_regions(audio, RATE):
        if prev_end is not None and end - piece_start > max_s:
            piece_start = (prev_end + start) / 2
            cuts.append(piece_start)
        prev_end = end
    cuts.append(total)
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]
