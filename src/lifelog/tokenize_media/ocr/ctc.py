"""CTC decoding of the recognition model's per-time-step probabilities, with word spaces restored.

PP-OCRv4's recogniser was trained mostly on Chinese, where words carry no spaces, so on
English it often lets "blank" win the argmax at word gaps and glues words together
("Alaunchticket"). Its space class (the last CTC class) still carries a little probability at
those gaps: a space goes in between two emitted characters when P(space) exceeds
``space_threshold`` on any time step between them (FIELD-NOTES: ~0.03 keeps code intact,
lower values start splitting before ``_``).

Only scripts that write spaces get them: next to a Chinese or Japanese character no space is
inferred (a space the model reads outright, as between ``在`` and ``GitHub``, stays), and
between two of them none is kept at all. Full-width punctuation becomes ASCII (code read as
``（x）：`` is ``(x):``) except next to such a character, where it is the text's own
(``你好，世界``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

BLANK = 0
_WHITESPACE = re.compile(r"\s+")
# A faint space signal next to these is the glyph's own side bearing, not a word gap: "_"
# joins identifiers, closing punctuation hugs the word before it, opening the word after.
_NO_SPACE_NEXT_TO = frozenset("_")
_NO_SPACE_BEFORE = frozenset(")]}:;,.!?")
_NO_SPACE_AFTER = frozenset("([{")
# Scripts written without spaces between words: CJK ideographs, kana, CJK punctuation and the
# full-width forms used with them (Korean Hangul writes spaces, so it is not here).
_UNSPACED = (
    "\u3000-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003134f"
)
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")
_SPACE_BETWEEN_UNSPACED = re.compile(f"(?<=[{_UNSPACED}]) +(?=[{_UNSPACED}])")
_IDEOGRAPH = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# Full-width punctuation beside an ideograph or kana: kept as written.
_CJK_PUNCTUATION = re.compile(
    f"(?<=[{_IDEOGRAPH}])[\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]"
    f"|[\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65](?=[{_IDEOGRAPH}])"
)
# A number the model read with letter o's in it ("12oo0", "9o days"): all digits but o/O.
_DIGITS_WITH_O = re.compile(r"\b(?=[0-9oO]*[oO])(?=[0-9oO]*[0-9])[0-9oO]+\b")


def decode(probs: np.ndarray, charset: list[str], space_threshold: float = 0.03) -> tuple[str, float]:
    """Text and mean confidence for one line from its ``(steps, classes)`` probabilities.

    ``charset`` maps class index to text: index 0 is the CTC blank, the last one a space.
    """
    best = probs.argmax(axis=1)
    steps = _emitted_steps(best)
    if steps.size == 0:
        return "", 0.0
    space = probs[:, -1]
    space_class = probs.shape[1] - 1
    pieces: list[str] = []
    for i, step in enumerate(steps):
        char = charset[best[step]]
        if i and _gap_has_space(space, steps[i - 1], step, space_threshold):
            previous = pieces[-1]
            if best[step] != space_class and previous != " " and not _flush(previous, char):
                pieces.append(" ")
        pieces.append(char)
    score = float(probs[steps, best[steps]].mean())
    return fix_digits(normalize("".join(pieces))), score


@dataclass(frozen=True)
class Glyphs:
    """Where the recogniser read a line's characters, in fractions of the line crop's width:
    layout places each character in the cell of a character grid its position falls in, and
    fills a cell whose character was dropped with what the model saw there."""

    at: tuple[float, ...]
    """The centre of each non-space character of the text, in order (the middle of the time
    steps that emitted it)."""
    step: float
    """The width of one time step."""
    alt: str
    """At each time step, the likeliest printable ASCII character other than a space..."""
    alt_p: tuple[float, ...]
    """...and its probability."""


class Reading(tuple):
    """A line's ``(text, score)``, with where its characters were read (``glyphs``, None when
    unknown) as an attribute: still the plain pair that engines return and caches keep."""

    glyphs: Glyphs | None

    def __new__(cls, text: str, score: float, glyphs: Glyphs | None = None) -> Reading:
        self = super().__new__(cls, (text, score))
        self.glyphs = glyphs
        return self

    def __getnewargs__(self) -> tuple:
        return (self[0], self[1], self.glyphs)


def ascii_classes(charset: list[str]) -> np.ndarray:
    """The class indices of the printable ASCII characters other than a space."""
    return np.array([i for i, c in enumerate(charset) if len(c) == 1 and "!" <= c <= "~"], dtype=np.int64)


def read(probs: np.ndarray, charset: list[str], space_threshold: float, step: float, alternates: np.ndarray) -> Reading:
    """``decode`` with the glyphs: ``step`` is one time step's share of the crop's width,
    ``alternates`` the classes ``Glyphs.alt`` is chosen from (``ascii_classes``)."""
    text, score = decode(probs, charset, space_threshold)
    best = probs.argmax(axis=1)
    steps = _emitted_steps(best)
    space_class = probs.shape[1] - 1
    ends = np.append(np.flatnonzero(best[1:] != best[:-1]) + 1, best.size)
    at = tuple(
        (float(s + ends[np.searchsorted(ends, s, side="right")]) / 2) * step
        for s in steps.tolist()
        if best[s] != space_class
    )
    if len(at) != sum(1 for c in text if not c.isspace()) or alternates.size == 0:
        return Reading(text, score)  # normalising changed the characters' count: positions unknown
    picked = probs[:, alternates]
    top = picked.argmax(axis=1)
    alt = "".join(charset[i] for i in alternates[top].tolist())
    return Reading(text, score, Glyphs(at, step, alt, tuple(picked[np.arange(top.size), top].tolist())))


def _emitted_steps(best: np.ndarray) -> np.ndarray:
    """Time steps where CTC emits a character: the first step of each non-blank run."""
    first = np.ones(best.shape, dtype=bool)
    first[1:] = best[1:] != best[:-1]
    return np.flatnonzero(first & (best != BLANK))


def _gap_has_space(space: np.ndarray, left: int, right: int, threshold: float) -> bool:
    gap = space[left + 1 : right]
    return gap.size > 0 and float(gap.max()) > threshold


def _flush(left: str, right: str) -> bool:
    """Whether ``left`` and ``right`` stay together even with some P(space) between them."""
    left, right = unicodedata.normalize("NFKC", left), unicodedata.normalize("NFKC", right)
    return (
        left in _NO_SPACE_NEXT_TO
        or right in _NO_SPACE_NEXT_TO
        or right in _NO_SPACE_BEFORE
        or left in _NO_SPACE_AFTER
        or bool(_UNSPACED_CHAR.match(left))
        or bool(_UNSPACED_CHAR.match(right))
    )


def normalize(text: str) -> str:
    """NFKC (full-width code punctuation becomes ASCII, but not beside CJK text), single spaces
    between words, and none between two CJK characters."""
    kept = [m.span() for m in _CJK_PUNCTUATION.finditer(text)]
    if kept:
        pieces, at = [], 0
        for a, b in kept:
            pieces += [unicodedata.normalize("NFKC", text[at:a]), text[a:b]]
            at = b
        text = "".join(pieces) + unicodedata.normalize("NFKC", text[at:])
    else:
        text = unicodedata.normalize("NFKC", text)
    text = _WHITESPACE.sub(" ", text).strip()
    return _SPACE_BETWEEN_UNSPACED.sub("", text)


def fix_digits(text: str) -> str:
    """Turn o/O into 0 inside tokens that are otherwise all digits: the model confuses them
    in numbers, and no English word is made of digits and o's."""
    return _DIGITS_WITH_O.sub(lambda m: m.group().replace("o", "0").replace("O", "0"), text)
