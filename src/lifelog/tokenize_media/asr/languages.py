"""The languages Whisper knows, by the code ``asr_language`` takes and transcripts carry.

The table is Whisper's own (``whisper/tokenizer.py``, MIT), so checking a setting needs
neither engine installed. ``yue`` (Cantonese) is read only by large-v3 models.
"""

from __future__ import annotations

from lifelog.errors import ConfigError

# fmt: off
LANGUAGES: dict[str, str] = {
    "en": "english", "zh": "chinese", "de": "german", "es": "spanish", "ru": "russian", "ko": "korean",
    "fr": "french", "ja": "japanese", "pt": "portuguese", "tr": "turkish", "pl": "polish", "ca": "catalan",
    "nl": "dutch", "ar": "arabic", "sv": "swedish", "it": "italian", "id": "indonesian", "hi": "hindi",
    "fi": "finnish", "vi": "vietnamese", "he": "hebrew", "uk": "ukrainian", "el": "greek", "ms": "malay",
    "cs": "czech", "ro": "romanian", "da": "danish", "hu": "hungarian", "ta": "tamil", "no": "norwegian",
    "th": "thai", "ur": "urdu", "hr": "croatian", "bg": "bulgarian", "lt": "lithuanian", "la": "latin",
    "mi": "maori", "ml": "malayalam", "cy": "welsh", "sk": "slovak", "te": "telugu", "fa": "persian",
    "lv": "latvian", "bn": "bengali", "sr": "serbian", "az": "azerbaijani", "sl": "slovenian",
    "kn": "kannada", "et": "estonian", "mk": "macedonian", "br": "breton", "eu": "basque", "is": "icelandic",
    "hy": "armenian", "ne": "nepali", "mn": "mongolian", "bs": "bosnian", "kk": "kazakh", "sq": "albanian",
    "sw": "swahili", "gl": "galician", "mr": "marathi", "pa": "punjabi", "si": "sinhala", "km": "khmer",
    "sn": "shona", "yo": "yoruba", "so": "somali", "af": "afrikaans", "oc": "occitan", "ka": "georgian",
    "be": "belarusian", "tg": "tajik", "sd": "sindhi", "gu": "gujarati", "am": "amharic", "yi": "yiddish",
    "lo": "lao", "uz": "uzbek", "fo": "faroese", "ht": "haitian creole", "ps": "pashto", "tk": "turkmen",
    "nn": "nynorsk", "mt": "maltese", "sa": "sanskrit", "lb": "luxembourgish", "my": "myanmar",
    "bo": "tibetan", "tl": "tagalog", "mg": "malagasy", "as": "assamese", "tt": "tatar", "haw": "hawaiian",
    "ln": "lingala", "ha": "hausa", "ba": "bashkir", "jw": "javanese", "su": "sundanese", "yue": "cantonese",
}
# fmt: on
BY_NAME = {name: code for code, name in LANGUAGES.items()} | {"mandarin": "zh", "cantonese": "yue"}


def check_language(code: str) -> str:
    """The code of ``code`` if Whisper knows it (a code or an English name, any case, as Whisper
    takes them: ``zh``, ``Chinese``); ConfigError otherwise."""
    clean = code.strip().lower()
    if clean in LANGUAGES or clean in BY_NAME:
        return BY_NAME.get(clean, clean)
    raise ConfigError(
        f"asr_language = {code!r} is not a language Whisper knows. Give a Whisper language code, "
        f"or leave it empty to detect the language of each chunk. The {len(LANGUAGES)} codes: "
        f"{', '.join(sorted(LANGUAGES))}."
    )


def language_name(code: str) -> str:
    """``zh`` -> ``Chinese``; an unknown code is returned as it is."""
    return LANGUAGES.get(code, code).title()
