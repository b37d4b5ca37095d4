"""Chinese transcripts in one script: Whisper writes Mandarin in Simplified or Traditional
characters as its training subtitles happened to be (often Traditional for a mainland speaker),
so the ``chinese_script`` setting converts them with OpenCC.

    as-heard      keep what Whisper wrote (the default: conversion is lossy; 乾/幹/干 become 干)
    simplified    OpenCC ``t2s`` (characters and phrases, Traditional to Simplified)
    traditional   OpenCC ``s2tw`` (characters as written in Taiwan: 吃, 裡; OpenCC's own
                  ``s2t`` standard writes the archaic 喫, 裏)

Only transcripts whose language is Chinese are converted; text seen on screen stays as it was
shown, and Japanese kanji are never touched. Punctuation is left as Whisper wrote it: Chinese
full-width marks (，。？！：；) stay full-width (NFKC would turn ，：？ into ASCII but leave 。、
alone, mixing the two); search folds widths on both sides, so either form finds the other.
The official OpenCC bindings (``opencc``, a compiled wheel, in ``lifelog[multilingual]``)
convert a line in ~1.5 µs (the pure-Python reimplementation takes ~60 µs).
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from lifelog.config import CHINESE_SCRIPTS as SCRIPTS
from lifelog.errors import ConfigError
from lifelog.tokenize_media.asr.base import Segment

CHINESE = frozenset({"zh", "yue"})  # yue: Cantonese, which large-v3 tells apart
_OPENCC_CONFIG = {"simplified": "t2s.json", "traditional": "s2tw.json"}


def converter(script: str):
    """A function from text to text in ``script``; None for ``as-heard``. Raises ConfigError for
    an unknown script or when OpenCC is not installed."""
    if script not in SCRIPTS:
        raise ConfigError(f"chinese_script = {script!r}: must be one of {', '.join(SCRIPTS)}.")
    if script == "as-heard":
        return None
    return _opencc(_OPENCC_CONFIG[script]).convert


@cache
def _opencc(config: str):
    try:
        import opencc
    except ImportError:
        raise ConfigError(
            "chinese_script needs OpenCC, which is not installed. Install it with: pip install 'lifelog[multilingual]' "
            "(or set chinese_script = 'as-heard')."
        ) from None
    return opencc.OpenCC(config)


def to_script(segments: list[Segment], script: str) -> list[Segment]:
    """``segments`` with the Chinese ones written in ``script``; others as they are."""
    convert = converter(script)
    if convert is None:
        return segments
    return [replace(s, text=convert(s.text)) if s.language in CHINESE else s for s in segments]
