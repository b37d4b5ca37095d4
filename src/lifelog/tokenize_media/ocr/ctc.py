"""CTC decoding of the recognition model's per-time-step probabilities, with word spaces restored.

PP-OCRv4's recogniser was trained mostly on Chinese, where words carry no spaces, so on
English it often lets "blank" win the argmax at word gaps and glues words together
("Alaunchticket"). Its space class (the last CTC class) still carries a little probability at
those gaps: a space goes in between two emitted characters when P(space) exceeds
``space_threshold`` on any time step between them (FIELD-NOTES: ~0.03 keeps code intact,
lower values start splitting before ``_``).
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

BLANK = 0
_WHITESPACE = re.compile(r"\s+")
# A faint space signal next to these is the glyph's own side bearing, not a word gap: "_"
# joins identifiers, closing punctuation hugs the word before it, opening the word after.
_NO_SPACE_NEXT_TO = frozenset("_")
_NO_SPACE_BEFORE = frozenset(")]}:;,.!?")
_NO_SPACE_AFTER = frozenset("([{")
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
        left in _NO_SPACE_NEXT_TO or right in _NO_SPACE_NEXT_TO or right in _NO_SPACE_BEFORE or left in _NO_SPACE_AFTER
    )


def normalize(text: str) -> str:
    """NFKC (full-width code punctuation becomes ASCII) and single spaces between words."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def fix_digits(text: str) -> str:
    """Turn o/O into 0 inside tokens that are otherwise all digits: the model confuses them
    in numbers, and no English word is made of digits and o's."""
    return _DIGITS_WITH_O.sub(lambda m: m.group().replace("o", "0").replace("O", "0"), text)
