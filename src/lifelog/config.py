"""Settings: defaults in code < config file (TOML) < environment (LIFELOG_*) < command-line flags.

The file lives at ``<config dir>/config.toml``; unknown keys and bad values are errors that
name the key. Config is read when a command runs, never at import time.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from lifelog.errors import ConfigError, UsageError
from lifelog.paths import atomic_private_file, make_private_dir

AUDIO_SOURCES = ("both", "mic", "system", "none")
CHINESE_SCRIPTS = ("auto", "as-heard", "simplified", "traditional")
DEFAULT_BUDGET = 8000
_BUDGET = re.compile(r"^(\d{1,30}(?:\.\d{1,30})?)([kKmM]?)$")
_BYTES = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT]?i?B?)$", re.IGNORECASE)
_BYTE_UNITS = {
    "": 1,
    "k": 1000,
    "m": 1000**2,
    "g": 1000**3,
    "t": 1000**4,
    "ki": 1024,
    "mi": 1024**2,
    "gi": 1024**3,
    "ti": 1024**4,
}
MAX_BYTES = 1000**6  # an exabyte: more than any disk, far less than a float's range
MAX_AGE_DAYS = 36525  # a century; "" keeps for ever
# Numeric settings: (lowest, highest). Every one must be finite (NaN fails these comparisons).
RANGES = {
    "fps": (0.1, 30),
    "monitor": (0, 64),
    "spool_max_frames": (2, 100_000),
    "keyframe_every_s": (1, 86400),
    "busy_timeout_s": (0.1, 3600),
    "ask_timeout_s": (1, 86400),
}

# The built-in secret patterns (tokenize_media/redact.py defines them; redact_disable names them).
REDACT_PATTERN_NAMES = (
    "aws-key",
    "gcp-key",
    "openai-key",
    "anthropic-key",
    "github-token",
    "gitlab-token",
    "slack-token",
    "jwt",
    "bearer-token",
    "private-key",
    "connection-string",
    "card-number",
    "iban",
    "password",
)

# Windows of private browsing, excluded unless the user unsets exclude_titles: Firefox says
# "Private Browsing", Chromium and Chrome "Incognito", Edge "InPrivate", Brave "Private".
PRIVATE_BROWSING_TITLES = (
    r"(?i)private browsing",
    r"(?i)\bincognito\b",
    r"(?i)\binprivate\b",
    r"(?i)\bprivate( window)?\b.*\bbrave\b",
)


def parse_bytes(text: str | int) -> int:
    """``20GB``, ``500MB``, ``1.5GiB``, ``1000000`` -> bytes (K/M/G/T are powers of 1000, Ki/Mi/Gi/Ti of 1024)."""
    m = _BYTES.match(str(text).strip().replace("_", "").replace(",", "")) if not isinstance(text, bool) else None
    size = float(m.group(1)) * _BYTE_UNITS[m.group(2).lower().rstrip("b")] if m else -1
    if not 0 <= size <= MAX_BYTES:  # float("9" * 400) is inf
        raise UsageError(f"Bad size {text!r}: give a number of bytes such as 500MB, 20GB or 1.5TiB.")
    return int(size)


def parse_age(text: str) -> float:
    """A retention age (``30d``, ``12h``, ``2w``) in seconds; "" means for ever (returns 0)."""
    from lifelog.timespec import parse_duration

    text = str(text).strip()
    if not text:
        return 0.0
    seconds = parse_duration(text).total_seconds()
    if not 0 < seconds <= MAX_AGE_DAYS * 86400:  # older than a century would reach before year 1 soon
        raise UsageError(
            f"Bad age {text!r}: give a positive age up to {MAX_AGE_DAYS}d, such as 30d, 12h or 2w "
            "(or nothing: kept for ever)."
        )
    return seconds


def _json_list(value) -> tuple[str, ...]:
    """A list setting: a TOML array, or a JSON list given as text (``'["a", "b"]'``)."""
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else []
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError("not a list of strings")
    return tuple(value)


def _json_table(value) -> dict[str, str]:
    """A name -> text setting: a TOML table, or a JSON object given as text."""
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError("not a table of strings")
    return dict(value)


def _float(value) -> float:
    """A number (TOML's true/false are not numbers); its range is checked in ``validate``."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    return float(value)


def _int(value) -> int:
    """A whole number: an integer, or a float or text that is one (``3.0``, ``"3"``)."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, float) or (isinstance(value, str) and not value.strip().lstrip("+-").isdigit()):
        number = float(value)
        if not number.is_integer():  # also NaN and inf
            raise ValueError("not a whole number")
        return int(number)
    return int(value)


def _str(value) -> str:
    """Text (a TOML number is taken as written, ``storage_max = 1000000``); UTF-8 encodable,
    since the config file is UTF-8."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("not text")
    text = str(value)
    text.encode("utf-8")  # an unpaired surrogate (from a badly encoded argument) raises
    return text


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError("not a boolean")


def parse_budget(text: str | int) -> int:
    """``8000``, ``200k`` (200,000), ``1M`` (1,000,000), ``1.5M``, ``8_000`` or ``8,000`` -> tokens."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    m = _BUDGET.match(str(text).strip().replace("_", "").replace(",", ""))
    # Exact for any number of digits (a float would turn 10**30 into 1000000000000000019884624838656)
    value = Fraction(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()] if m else Fraction(0)
    if value < 1 or value.denominator != 1:
        shown = str(text) if len(str(text)) <= 40 else f"{str(text)[:37]}..."
        raise UsageError(f"Bad budget {shown!r}: give a whole number of tokens such as 8000, 200k or 1M.")
    return int(value)


@dataclass(frozen=True)
class Settings:
    fps: float = 2.0
    monitor: int = 0  # 0: every monitor
    ocr_engine: str = "ppocr-v4"
    ocr_rec_model: str = ""  # another PP-OCR recognition model (.onnx with its character list); "" = bundled
    tokenizer: str = "o200k"
    budget: int = 0  # tokens; 0: the model's usable context when a model is named, else DEFAULT_BUDGET
    model: str = ""  # the model windows are for (gpt-4o, claude-sonnet-4-5, qwen3, ...); see tokenize_media/targets.py
    ask_base_url: str = ""  # an OpenAI-compatible endpoint for `lifelog ask`, e.g. http://127.0.0.1:8080/v1
    ask_api_key_env: str = ""  # the environment variable holding its key (LIFELOG_ASK_API_KEY is read first)
    ask_timeout_s: float = 600.0  # longest wait for the endpoint's next bytes (a long prefill can take minutes)
    ask_lessons: bool = True  # `lifelog ask` puts the lessons kept (`lifelog lessons`) first in its window
    # Digests written by a model (opt-in: each hour's most telling lines are sent there); "" = extractive
    digest_base_url: str = ""  # an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (llama.cpp's server)
    digest_model: str = ""  # the model to ask there (needed with digest_base_url); "local": run one here (offline)
    digest_gguf: str = ""  # with digest_model = local: the .gguf to run; "" = the local-model extra's Qwen 1.5B
    digest_api_key_env: str = ""  # the environment variable holding its key (LIFELOG_DIGEST_API_KEY is read first)
    keyframe_every_s: float = 300.0
    busy_timeout_s: float = 30.0
    audio_source: str = "both"  # mic, system, both, none
    asr_engine: str = "faster-whisper"
    asr_model: str = "auto"  # auto (base if installed, else tiny.en), tiny.en (English), base (99 languages), or a path
    asr_model_path: str = ""  # the older name of asr_model for a path (CTranslate2 folder or .pt); "" = asr_model
    asr_language: str = ""  # a Whisper language code (zh, en, ja, ...); "" = detected in each chunk
    chinese_script: str = "auto"  # Chinese transcripts: auto (from the locale), as-heard, simplified, traditional
    speakers: bool = True  # tell voices apart (CAM++ embeddings, kept local): who said each line
    spool_max_frames: int = 20  # frames waiting for OCR beyond which capture sheds changes (capture/loop.py)
    # Privacy and storage (README "Privacy"). Lists and tables may be given as JSON text.
    exclude_apps: tuple[str, ...] = ()  # apps (WM_CLASS, any case) never recorded: their windows are blanked
    exclude_titles: tuple[str, ...] = PRIVATE_BROWSING_TITLES  # regexes on window titles, never recorded
    exclude_audio: bool = True  # while an excluded window has focus, no sound is kept either
    redact_patterns: dict[str, str] = field(default_factory=dict)  # more secrets: name -> regex
    redact_disable: tuple[str, ...] = ()  # built-in secret patterns not to apply (by name)
    keep_images: str = ""  # frame images older than this go (30d); "" = kept until storage_max needs room
    keep_audio: str = ""  # audio files older than this go; ""= as above
    keep_text: str = ""  # text older than this goes; "" = for ever
    storage_max: str = ""  # bytes for the whole data folder (20GB); "" = no budget
    disk_min_free: str = "1GB"  # capture pauses (a gap) while the data folder's disk has less free
    import_max: str = "4GB"  # the largest JSONL file the owner takes in an upload; "" = no limit

    @property
    def storage_max_bytes(self) -> int:
        """``storage_max`` in bytes; 0 = no budget."""
        return parse_bytes(self.storage_max) if self.storage_max else 0

    @property
    def disk_min_free_bytes(self) -> int:
        return parse_bytes(self.disk_min_free) if self.disk_min_free else 0

    @property
    def import_max_bytes(self) -> int:
        """``import_max`` in bytes; 0 = no limit."""
        return parse_bytes(self.import_max) if self.import_max else 0

    @property
    def whisper_model(self) -> str:
        """The Whisper weights to run: ``asr_model_path`` when set (the older setting), else ``asr_model``."""
        return self.asr_model_path or self.asr_model

    def ocr_options(self) -> dict:
        """Options for the OCR engine from these settings (``get_engine(id, **options)``)."""
        return {"rec_model": self.ocr_rec_model} if self.ocr_rec_model else {}

    @property
    def audio_sources(self) -> tuple[str, ...]:
        return {"both": ("mic", "system"), "none": ()}.get(self.audio_source, (self.audio_source,))

    def validate(self) -> Settings:
        for key, (low, high) in RANGES.items():
            if not low <= getattr(self, key) <= high:  # NaN and inf fail here too
                raise ConfigError(f"{key} = {getattr(self, key)}: must be between {low:g} and {high:g}.")
        if self.audio_source not in AUDIO_SOURCES:
            raise ConfigError(f"audio_source = {self.audio_source!r}: must be one of {', '.join(AUDIO_SOURCES)}.")
        if self.chinese_script not in CHINESE_SCRIPTS:
            raise ConfigError(f"chinese_script = {self.chinese_script!r}: must be one of {', '.join(CHINESE_SCRIPTS)}.")
        if self.asr_model_path and self.asr_model != Settings.asr_model:
            raise ConfigError(
                f"asr_model = {self.asr_model!r} and asr_model_path = {self.asr_model_path!r} are both "
                "set: asr_model_path is the older name of asr_model; keep only asr_model."
            )
        if self.ocr_rec_model and not _is_file(self.ocr_rec_model):
            raise ConfigError(
                f"ocr_rec_model = {self.ocr_rec_model!r}: no such file (give the path of a PP-OCR "
                "recognition model in ONNX form, or unset it for the bundled one)."
            )
        if self.budget < 0:
            raise ConfigError(f"budget = {self.budget}: must be positive (or 0: from the model).")
        self._validate_privacy()
        return self

    def _validate_privacy(self) -> None:
        for key, patterns in (
            ("exclude_titles", self.exclude_titles),
            ("redact_patterns", self.redact_patterns.values()),
        ):
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ConfigError(f"{key}: invalid regular expression {pattern!r} ({exc}).") from None
        unknown = [name for name in self.redact_disable if name not in REDACT_PATTERN_NAMES]
        if unknown:
            raise ConfigError(
                f"redact_disable: unknown secret pattern {unknown[0]!r}. Known: {', '.join(REDACT_PATTERN_NAMES)}."
            )
        for key in ("keep_images", "keep_audio", "keep_text"):
            try:
                parse_age(getattr(self, key))
            except UsageError as exc:
                raise ConfigError(f"{key} = {getattr(self, key)!r}: {exc}") from None
        for key in ("storage_max", "disk_min_free", "import_max"):
            try:
                getattr(self, f"{key}_bytes")
            except UsageError as exc:
                raise ConfigError(f"{key} = {getattr(self, key)!r}: {exc}") from None


def _is_file(path: str) -> bool:
    try:
        return Path(path).expanduser().is_file()
    except (OSError, RuntimeError):  # a name too long; ~nosuchuser
        return False


def load_settings(config_file: Path | None, env: Mapping[str, str] | None = None, **flags) -> Settings:
    settings = Settings()
    if config_file is not None and config_file.exists():
        settings = _apply(settings, _read_toml(config_file), str(config_file))
    environ = os.environ if env is None else env
    from_env = {
        f.name: environ[f"LIFELOG_{f.name.upper()}"] for f in fields(Settings) if f"LIFELOG_{f.name.upper()}" in environ
    }
    settings = _apply(settings, from_env, "environment")
    settings = _apply(settings, {k: v for k, v in flags.items() if v is not None}, "command line")
    return settings.validate()


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _apply(settings: Settings, values: dict[str, Any], origin: str) -> Settings:
    # Each field's type is its annotation as text (``from __future__ import annotations``).
    types = {f.name: str(f.type) for f in fields(Settings)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in types:
            raise ConfigError(f"{origin}: unknown setting {key!r}. Known: {', '.join(sorted(types))}.")
        kind: Callable[[Any], object] = parse_budget if key == "budget" else _CONVERTERS[types[key]]
        try:
            changes[key] = kind(value)
        except (TypeError, ValueError, OverflowError, UsageError):
            raise ConfigError(
                f"{origin}: {key} = {value!r} is not a valid {_KIND_NAMES.get(types[key], types[key])}."
            ) from None
    return replace(settings, **changes)


_CONVERTERS = {
    "float": _float,
    "int": _int,
    "str": _str,
    "bool": _bool,
    "tuple[str, ...]": _json_list,
    "dict[str, str]": _json_table,
}
_KIND_NAMES = {
    "tuple[str, ...]": 'JSON list of strings (\'["a", "b"]\')',
    "dict[str, str]": 'JSON object of strings (\'{"name": "regex"}\')',
    "bool": "true or false",
}


def edit_config(path: Path, key: str, value: str | None, check=lambda settings: None) -> Settings:
    """The settings the file at ``path`` gives with ``key`` set to ``value`` (None: removed),
    checked first, by ``check`` too (a ConfigError names the key, and nothing is written), then
    written in place: its other lines, comments included, stay as they were. The environment
    does not count here."""
    if key not in {f.name for f in fields(Settings)}:
        _apply(Settings(), {key: value}, str(path))  # raises: unknown setting, listing the known ones
    current = _read_toml(path) if path.exists() else {}
    current.pop(key, None)
    settings = _apply(Settings(), current, str(path))
    settings = _apply(settings, {} if value is None else {key: value}, "config").validate()
    check(settings)
    lines = [
        line
        for line in (path.read_text().splitlines() if path.exists() else [])
        if not re.match(rf"\s*{re.escape(key)}\s*=", line)
    ]
    if value is not None:
        lines.append(f"{key} = {_toml_value(getattr(settings, key))}")
    make_private_dir(path.parent)
    with atomic_private_file(path) as fh:
        fh.write(("\n".join(lines).strip("\n") + "\n").encode())
    return settings


def _toml_value(value) -> str:
    """A setting's value as TOML: a JSON string is a valid TOML basic string once DEL is
    escaped too (JSON leaves it, TOML forbids it), and so a JSON list of strings is a valid TOML array."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, tuple, list)):
        return _toml_json(list(value) if isinstance(value, tuple) else value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_json(k)} = {_toml_json(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _toml_json(value) -> str:
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
