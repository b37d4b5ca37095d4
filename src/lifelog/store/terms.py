"""Text to search terms: one tokenizer for indexing and for queries, in plain Python.

A line becomes terms like this:

* NFKC (full-width letters and digits become ASCII; half-width katakana full-width), then
  lower case.
* Runs of letters and digits are words: accents stripped (``Café`` -> ``cafe``), the 33
  English stop words of Lucene's ``EnglishAnalyzer`` dropped, plurals folded by Lucene's
  ``EnglishMinimalStemmer`` (``invoices`` -> ``invoice``, ``queries`` -> ``query``; no
  Porter stemming: screens are full of identifiers that Porter would mangle). Everything
  else (punctuation, ``_``, spaces) separates words.
* Scripts written without spaces (Chinese, Japanese kana, Korean, Thai, Lao, Khmer,
  Myanmar) are cut into overlapping character bigrams, as Lucene's ``CJKBigramFilter``
  does: ``会議室`` -> ``会議``, ``議室``. A phrase of 2 characters is then one term; a longer
  one is all its bigrams plus a substring check (:func:`phrase_runs`). A lone character
  between other scripts makes no term (a 1-character query is answered by substring).
* Traditional Chinese characters are written Simplified (:func:`fold`: ``會議`` -> ``会议``), by
  a fixed one-to-one table (``ts_fold.txt``, OpenCC's own character data), so a query in
  either script finds text in either, and the terms are the same whether or not OpenCC is
  installed. Only the terms are folded: what is shown stays as stored.

Terms are stored as 64-bit ids (:func:`term_id`: the first 8 bytes of their BLAKE2b hash):
the index needs no dictionary to look a term up, and holds no readable words.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from importlib import resources

NO_SPACE_RANGES = (
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1100-\u11ff"  # Hangul Jamo
    "\u1780-\u17ff"  # Khmer
    "\u3005-\u3007"  # 々 〆 〇
    "\u3040-\u30ff"  # Hiragana, Katakana (with ー)
    "\u3130-\u318f"  # Hangul compatibility Jamo
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0003134f"  # CJK extensions B-G
)
_TOKEN = re.compile(f"([{NO_SPACE_RANGES}]+)|([^\\W_{NO_SPACE_RANGES}]+)")

STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such "
    "that the their then there these they this to was will with".split()
)
"""Lucene's ``EnglishAnalyzer.ENGLISH_STOP_WORDS_SET``."""


def _fold_table() -> dict[int, int]:
    text = resources.files("lifelog.store").joinpath("ts_fold.txt").read_text(encoding="utf-8")
    pairs = [line for line in text.splitlines() if line and not line.startswith("#")]
    if any(len(pair) != 2 for pair in pairs):
        raise ValueError("ts_fold.txt: every line must be one Traditional and one Simplified character")
    return {ord(pair[0]): ord(pair[1]) for pair in pairs}


FOLD = _fold_table()
"""Traditional -> Simplified, code point to code point, for ``str.translate`` (~4,100 pairs,
every one a CJK ideograph; folding a folded text changes nothing)."""


def _sources() -> dict[str, str]:
    out: dict[str, str] = {}
    for src, dst in FOLD.items():
        out[chr(dst)] = out.get(chr(dst), "") + chr(src)
    return out


_SOURCES = _sources()
"""Simplified -> every Traditional character that folds to it (``会`` -> ``會``)."""


def fold(text: str) -> str:
    """``text`` with its Traditional Chinese characters written Simplified (``語音識別`` ->
    ``语音识别``); everything else as it is."""
    return text if text.isascii() else text.translate(FOLD)


def unfold(text: str) -> tuple[str, str]:
    """For a folded ``text``: the characters that fold to one of its characters, and what each
    folds to (two strings of one length, for SQL's ``translate``: a stored text so translated
    holds ``text`` wherever the stored text folded would). Empty for text with nothing to fold."""
    if text.isascii():
        return "", ""
    found = [(c, _SOURCES[c]) for c in dict.fromkeys(text) if c in _SOURCES]
    return "".join(src for _, src in found), "".join(c * len(src) for c, src in found)


def normalize(text: str) -> str:
    """NFKC, lower case, Chinese folded to Simplified (:func:`fold`)."""
    return fold(unicodedata.normalize("NFKC", text).lower())


@lru_cache(maxsize=65536)
def _word_term(word: str) -> str | None:
    """A lower-cased word's term: accents stripped, stop word dropped, plural folded."""
    if not word.isascii():
        word = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
        word = unicodedata.normalize("NFC", word)
    if word in STOP_WORDS:
        return None
    return minimal_stem(word)


_ES_PLURALS = ("sses", "shes", "ches", "xes", "zzes")


def minimal_stem(word: str) -> str:
    """English plurals only, after Lucene's ``EnglishMinimalStemmer`` (``-s``, ``-ies`` ->
    ``-y``), plus ``-sses``/``-shes``/``-ches``/``-xes``/``-zzes`` -> drop ``es`` so that
    ``addresses`` meets ``address`` and ``boxes`` meets ``box``."""
    n = len(word)
    if n < 3 or word[-1] != "s" or word[-2] in "usi":
        return word
    if word[-2] == "e":
        if n > 3 and word[-3] == "i" and word[-4] not in "ae":
            return word[:-3] + "y"
        if word.endswith(_ES_PLURALS):
            return word[:-2]
        if word[-3] in "iaoe":
            return word
    return word[:-1]


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def terms(text: str) -> list[str]:
    """Every term of ``text`` in order, repeats kept (their count is the term frequency)."""
    out: list[str] = []
    for run, word in _TOKEN.findall(normalize(text)):
        if run:
            out += _bigrams(run)
        else:
            term = _word_term(word)
            if term is not None:
                out.append(term)
    return out


def phrase_runs(text: str) -> list[str]:
    """The runs of no-space script of 3 or more characters in ``text`` (normalised): their
    bigrams alone do not prove the characters stand together, so a search checks them."""
    return [run for run, _ in _TOKEN.findall(normalize(text)) if len(run) > 2]


def single_chars(text: str) -> list[str]:
    """Lone no-space characters in ``text`` (normalised): no term, so matched by substring."""
    return [run for run, _ in _TOKEN.findall(normalize(text)) if len(run) == 1]


@lru_cache(maxsize=262144)
def term_id(term: str) -> int:
    """The term's id: a signed 64-bit BLAKE2b hash (stable across processes and versions)."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=8).digest(), "little", signed=True)
