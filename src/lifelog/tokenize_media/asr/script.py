"""Chinese transcripts in one script: Whisper writes Mandarin in Simplified or Traditional
characters as its training subtitles happened to be (often Traditional for a mainland speaker),
so the ``chinese_script`` setting converts them with OpenCC.

    auto          from the user's locale (the default): zh_CN, zh_SG, zh_Hans → simplified;
                  zh_TW, zh_HK, zh_MO, zh_Hant → traditional; any other → as-heard
    as-heard      keep what Whisper wrote (conversion is lossy: 乾/幹/干 become 干)
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

import os
from collections.abc import Mapping
from dataclasses import replace
from functools import cache

from lifelog.config import CHINESE_SCRIPTS as SCRIPTS
from lifelog.errors import ConfigError
from lifelog.tokenize_media.asr.base import Segment

CHINESE = frozenset({"zh", "yue"})  # yue: Cantonese, which large-v3 tells apart
_OPENCC_CONFIG = {"simplified": "t2s.json", "traditional": "s2tw.json"}
_LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")  # the first set one names the user's language
_REGION_SCRIPTS = {"cn": "simplified", "sg": "simplified", "hans": "simplified", "my": "simplified"} | dict.fromkeys(
    ("tw", "hk", "mo", "hant"), "traditional"
)


def resolve(script: str, environ: Mapping[str, str] = os.environ) -> str:
    """``script``, with ``auto`` made one of the others from the locale in ``environ``: Chinese
    of the mainland, Singapore or Malaysia (``zh_CN.UTF-8``, ``zh_SG``, ``zh-Hans``) is
    simplified, of Taiwan, Hong Kong or Macau (``zh_TW``, ``zh_HK``, ``zh_MO``, ``zh-Hant``)
    traditional; any other locale, or none, keeps what Whisper wrote (``as-heard``).
    ``LANGUAGE``'s first entry counts before ``LC_ALL``, ``LC_MESSAGES`` and ``LANG``."""
    if script != "auto":
        return script
    preferred = environ.get("LANGUAGE", "").split(":")[0]
    locale = preferred or next((environ[v] for v in _LOCALE_VARIABLES if environ.get(v)), "")
    language, _, region = locale.split(".")[0].split("@")[0].replace("-", "_").partition("_")
    if language.lower() != "zh":
        return "as-heard"
    return next((_REGION_SCRIPTS[p] for p in region.lower().split("_") if p in _REGION_SCRIPTS), "as-heard")


def converter(script: str):
    """A function from text to text in ``script`` (``auto``: :func:`resolve`d); None for
    ``as-heard``. Raises ConfigError for an unknown script, or when OpenCC is not installed and
    the script was asked for by name (``auto`` then keeps what Whisper wrote)."""
    if script not in SCRIPTS:
        raise ConfigError(f"chinese_script = {script!r}: must be one of {', '.join(SCRIPTS)}.")
    resolved = resolve(script)
    if resolved == "as-heard":
        return None
    if script == "auto" and not opencc_installed():
        return None
    return _opencc(_OPENCC_CONFIG[resolved]).convert


def opencc_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("opencc") is not None


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
