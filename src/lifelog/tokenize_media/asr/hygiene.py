"""Transcript hygiene: remove what Whisper says when nobody spoke, and what it says twice.

Whisper was trained on subtitles, so silence and noise come out as "Thank you.", "you" or
runs of dots, and a window it cannot read can loop on one phrase. Overlapping audio chunks
transcribe the shared seconds twice. These pure functions clean a segment list; ``clean``
applies the per-chunk rules in order, ``dedupe_overlap`` joins consecutive chunks.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import replace
from datetime import datetime, timedelta

from lifelog.tokenize_media.asr.base import Segment

# Whisper's own skip rule (openai/whisper transcribe.py defaults).
NO_SPEECH = 0.6
LOW_LOGPROB = -1.0
# gzip ratio above which a window is a repetition loop (Whisper's fallback threshold).
MAX_COMPRESSION = 2.4

# fmt: off
HALLUCINATIONS = frozenset({
    "you", "thank you", "thank you very much", "thanks", "thanks for watching",
    "thank you for watching", "thanks for watching and see you next time", "please subscribe",
    "subscribe", "like and subscribe", "bye", "bye bye", "okay", "so", "oh", "uh", "um", "hmm",
    "the end", "music", "applause", "silence", "subtitles by the amara org community",
})
# fmt: on


def words(text: str) -> list[str]:
    """Lower-case words without punctuation: the form transcripts are compared in."""
    return re.findall(r"[a-z0-9']+", text.lower().replace("%", " percent"))


def is_no_speech(seg: Segment) -> bool:
    """Whisper's rule: the model thought the window silent *and* was unsure of its words."""
    return seg.no_speech_prob > NO_SPEECH and seg.avg_logprob < LOW_LOGPROB


def is_confident_speech(seg: Segment) -> bool:
    """High bar a stock phrase must clear to be kept: it was probably really said."""
    return seg.no_speech_prob < 0.3 and seg.avg_logprob > -0.7


def is_hallucination(seg: Segment) -> bool:
    """No words at all, or a stock subtitle phrase the model was not sure was speech."""
    said = " ".join(words(seg.text))
    if not said:
        return True
    return said in HALLUCINATIONS and not is_confident_speech(seg)


def compression_ratio(text: str) -> float:
    """Whisper's repetition measure: text bytes over zlib-compressed bytes."""
    raw = text.encode("utf-8")
    return len(raw) / len(zlib.compress(raw)) if raw else 0.0


def is_loop(seg: Segment) -> bool:
    """A repetition loop that collapsing exact repeats could not fix.

    Whisper scores a whole 30 s window, so a high ``compression_ratio`` only says some
    segment in it looped; the segment's own text decides which one.
    """
    return seg.compression_ratio > MAX_COMPRESSION and compression_ratio(seg.text) > MAX_COMPRESSION


def collapse_repeats(text: str, max_phrase: int = 8) -> str:
    """Keep one copy of a phrase repeated back to back: 3+ times for short phrases (speech
    does say "no, no"), twice for phrases of 4+ words (people rarely say those twice). The
    last copy is kept, since its punctuation belongs with the words that follow."""
    tokens = text.split()
    keys = [" ".join(words(t)) for t in tokens]
    i = 0
    while i < len(tokens):
        for n in range(1, min(max_phrase, (len(tokens) - i) // 2) + 1):
            reps = _repetitions(keys, i, n)
            if reps >= 3 or (reps >= 2 and n >= 4):
                del tokens[i : i + n * (reps - 1)], keys[i : i + n * (reps - 1)]
                break
        else:
            i += 1
    return " ".join(tokens)


def _repetitions(keys: list[str], i: int, n: int) -> int:
    """How many times the ``n``-token phrase at ``i`` occurs back to back from ``i``."""
    phrase = keys[i : i + n]
    if not any(phrase):
        return 1
    reps = 1
    while keys[i + n * reps : i + n * (reps + 1)] == phrase:
        reps += 1
    return reps


def drop_repeated_segments(segments: list[Segment]) -> list[Segment]:
    """Drop a segment that says exactly what the one before it said (a loop across windows)."""
    out: list[Segment] = []
    for seg in segments:
        if out and words(seg.text) == words(out[-1].text):
            out[-1] = replace(out[-1], end=max(out[-1].end, seg.end))
            continue
        out.append(seg)
    return out


def clean(segments: list[Segment]) -> list[Segment]:
    """One chunk's segments without no-speech windows, hallucinations, loops and repeats.

    Exact repeats are collapsed before the loop test, so a segment that merely stuttered
    keeps its words; only a loop collapsing cannot explain is dropped.
    """
    kept = [replace(s, text=collapse_repeats(s.text)) for s in segments if not is_no_speech(s)]
    kept = [s for s in kept if not (is_loop(s) or is_hallucination(s))]
    return drop_repeated_segments(kept)


def shift_segments(segments: list[Segment], offset: float) -> list[Segment]:
    """Segments moved ``offset`` seconds later: chunk-relative times to a longer recording's."""
    return [replace(s, start=s.start + offset, end=s.end + offset) for s in segments]


def absolute_span(seg: Segment, chunk_start: datetime) -> tuple[datetime, datetime]:
    """Wall-clock start and end of ``seg`` in a chunk that began at ``chunk_start``."""
    return chunk_start + timedelta(seconds=seg.start), chunk_start + timedelta(seconds=seg.end)


def dedupe_overlap(
    prev: list[Segment], new: list[Segment], overlap_seconds: float, slack: float = 1.0
) -> list[Segment]:
    """``new`` without the words it repeats from ``prev`` because the two chunks shared audio.

    Both lists use one clock (see ``shift_segments``), and the new chunk began
    ``overlap_seconds`` before the previous one ended. Only the last ``overlap_seconds`` of
    ``prev`` and the first ``overlap_seconds`` of ``new`` (plus ``slack``) are compared, so
    a phrase legitimately said twice minutes apart survives. The longest run of words that
    ends ``prev``'s tail and starts ``new``'s head is removed from ``new``.
    """
    if not prev or not new or overlap_seconds <= 0:
        return list(new)
    prev_end = max(s.end for s in prev)
    tail = [w for s in prev if s.end > prev_end - overlap_seconds - slack for w in words(s.text)]
    head_until = min(min(s.start for s in new) + overlap_seconds, prev_end) + slack
    head = [(i, tok) for i, s in enumerate(new) if s.start < head_until for tok in s.text.split()]
    head_keys = [" ".join(words(tok)) for _, tok in head]
    drop = _shared_prefix(tail, head_keys)
    return _remove_leading_tokens(prev, new, head, drop)


def _shared_prefix(tail: list[str], head: list[str]) -> int:
    """Number of leading ``head`` tokens that repeat the words ending ``tail``.

    Head tokens can be pure punctuation (empty key); they travel with their neighbours. A
    chunk boundary often cuts a word in half, so the match may skip the first head word or
    the last tail word, but then it must be at least two words long to count.
    """
    keyed = [i for i, k in enumerate(head) if k]
    best = 0
    for head_skip in (0, 1):
        for tail_skip in (0, 1):
            size = _match_size(tail[: len(tail) - tail_skip], [head[i] for i in keyed[head_skip:]])
            if size and (size >= 2 or head_skip + tail_skip == 0):
                best = max(best, keyed[head_skip + size - 1] + 1)
    return best


def _match_size(tail: list[str], head: list[str]) -> int:
    """Length of the longest run that both ends ``tail`` and starts ``head``."""
    for size in range(min(len(tail), len(head)), 0, -1):
        if head[:size] == tail[-size:]:
            return size
    return 0


def _remove_leading_tokens(
    prev: list[Segment], new: list[Segment], head: list[tuple[int, str]], count: int
) -> list[Segment]:
    """``new`` with its first ``count`` head tokens removed; emptied segments disappear and a
    trimmed one starts no earlier than ``prev`` ended, so the timeline does not overlap."""
    if count == 0:
        return list(new)
    prev_end = max(s.end for s in prev)
    removed: dict[int, int] = {}
    for seg_index, _ in head[:count]:
        removed[seg_index] = removed.get(seg_index, 0) + 1
    out = []
    for i, seg in enumerate(new):
        tokens = seg.text.split()[removed.get(i, 0) :]
        if tokens and any(words(" ".join(tokens))):
            trimmed = replace(seg, text=" ".join(tokens), start=min(max(seg.start, prev_end), seg.end))
            out.append(trimmed if i in removed else seg)
    return out
