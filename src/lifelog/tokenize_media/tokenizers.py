"""Token counts for target model families, offline (quicktok bundles the vocabularies).

A tokenizer has a string id and one essential method, ``count``; ``count_many`` derives from
it. Two kinds share that shape:

- **exact** (``o200k``, ``cl100k``, ``llama3``, ``qwen3``): the model's own vocabulary, so a
  count is the count the provider sees (identical to tiktoken / the models' tokenizer files).
- **upper bounds** (ids ending in ``-approx``): for models whose tokenizer lifelog does not
  ship (Claude and Gemini: not public; Mistral and DeepSeek: public, not bundled)::

      count = ceil(factor x max(cl100k(text), qwen3(text), extra_whitespace(text) / 2))

  ``extra_whitespace`` is the whitespace characters that follow another one (indentation,
  padding), which some tokenizers spend one token on each and cl100k/qwen3 merge. Each factor
  is the worst ratio real/base measured on a mixed corpus (English and 17 other languages,
  code, logs, numbers, emoji) with the real tokenizers running offline, plus 6-8% margin; see
  ``bench/tokenizer_calibration.py``. The recorded real counts sit in
  ``tests/tokenize_media/data/tokenizer_corpus.jsonl`` and the tests hold every factor to
  them: on that corpus the count is never under the real one, so a window is never too big for
  the model, at the cost of a window some 20-35% smaller than it could be (median text).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache

from lifelog.errors import UnknownEngine

# id -> quicktok encoding name
_ENCODINGS = {
    "o200k": "o200k_base",
    "gpt-4o": "o200k_base",
    "cl100k": "cl100k_base",
    "gpt-4": "cl100k_base",
    "llama3": "llama3",
    "qwen3": "qwen3",
}
DEFAULT_TOKENIZER = "o200k"
SPLIT_FROM = 1 << 21  # characters: a text this long is counted in pieces, in parallel
SPLIT_PARTS = 4

# id -> (factor, what was measured). Worst real/base ratio on the corpus, then margin.
_APPROX = {
    "claude-approx": (1.35, "Claude 3 to Opus 4.6 (ctok 1.3.0 v3 reconstruction): worst 1.27, median 1.06"),
    "claude-4.7-approx": (1.85, "Claude Opus 4.7 and later (ctok v4.7): worst 1.74, median 1.26"),
    "mistral-approx": (1.50, "Mistral Tekken (tekken_240911, mistral-common 1.13.1): worst 1.40, median 0.98"),
    "mistral-sp-approx": (1.45, "Mistral SentencePiece v3 (Mistral 7B, Mixtral): worst 1.35, median 1.14"),
    "deepseek-approx": (1.25, "DeepSeek V3/R1 and V4 tokenizer.json: worst 1.17, median 0.90"),
    "gemini-approx": (1.50, "Gemini: no tokenizer public or packaged; not measured, the widest margin used"),
}
_APPROX_BASES = ("cl100k_base", "qwen3")
_EXTRA_WHITESPACE = re.compile(r"\s{2,}")


@cache
def _encoding(name: str):
    import quicktok

    return quicktok.get_encoding(name)


@dataclass(frozen=True)
class Tokenizer:
    """Exact: the model family's own vocabulary."""

    id: str
    encoding: str
    exact = True

    def count(self, text: str) -> int:
        if len(text) < SPLIT_FROM:
            return _encoding(self.encoding).count(text)
        return sum(self.count_many(split_at_headings(text, SPLIT_PARTS)))  # in parallel

    def count_many(self, texts: list[str]) -> list[int]:
        import quicktok

        if not texts:
            return []
        return [int(n) for n in quicktok.count_batch(_encoding(self.encoding), texts)]


def split_at_headings(text: str, parts: int) -> list[str]:
    """``text`` in about ``parts`` pieces, each cut just after a newline that a ``#`` follows.
    The exact vocabularies here pre-split text with tiktoken-style patterns, in which no piece
    holds a newline followed by ``#`` (a newline run ends a piece; a piece starting with
    punctuation never starts with a newline), and BPE never merges across pieces: so the
    count of the text is the sum of the counts of these pieces (a window's blocks all begin
    with ``#`` on a new line; ``tests/tokenize_media`` holds the sum to the whole)."""
    out: list[str] = []
    start = 0
    size = len(text) // parts
    while len(out) < parts - 1:
        cut = text.find("\n#", start + size)
        if cut < 0:
            break
        out.append(text[start : cut + 1])
        start = cut + 1
    out.append(text[start:])
    return out


@dataclass(frozen=True)
class ApproxTokenizer:
    """An upper bound on a tokenizer lifelog does not ship (see the module docstring)."""

    id: str
    factor: float
    measured: str
    exact = False

    def count(self, text: str) -> int:
        return self._bound(max(_encoding(b).count(text) for b in _APPROX_BASES), text)

    def count_many(self, texts: list[str]) -> list[int]:
        import quicktok

        if not texts:
            return []
        per_base = [quicktok.count_batch(_encoding(b), texts) for b in _APPROX_BASES]
        return [self._bound(max(int(c[i]) for c in per_base), t) for i, t in enumerate(texts)]

    def _bound(self, base: int, text: str) -> int:
        extra = sum(m.end() - m.start() - 1 for m in _EXTRA_WHITESPACE.finditer(text))
        return math.ceil(self.factor * max(base, extra / 2))


def tokenizer_ids() -> list[str]:
    return sorted([*_ENCODINGS, *_APPROX])


@cache
def get_tokenizer(tokenizer_id: str = DEFAULT_TOKENIZER) -> Tokenizer | ApproxTokenizer:
    key = tokenizer_id.lower()
    if key in _APPROX:
        return ApproxTokenizer(key, *_APPROX[key])
    if key not in _ENCODINGS:
        raise UnknownEngine("tokenizer", tokenizer_id, tokenizer_ids())
    return Tokenizer(key, _ENCODINGS[key])
