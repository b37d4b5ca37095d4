"""``lifelog lessons`` (issue 22) in subprocesses on a private home: kept, listed, edited and
removed, with and without an owner; first in ``context --lessons`` (the same bytes every call,
inside the budget) and in ``ask``'s window; ``lessons reflect`` against a real HTTP server on
127.0.0.1 answering as a model would: grounded lessons kept with the moments they name, made-up
ones dropped. A real model reflecting: tests/cli/test_digest_model.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

from lifelog.paths import Paths
from lifelog.tokenize_media.tokenizers import get_tokenizer
from tests.api.serving import served
from tests.cli.helpers import lifelog
from tests.support.deploys import deploys
from tests.support.fake_openai import FakeOpenAI


def _env(home: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFELOG_")}
    return {**env, "LIFELOG_HOME": str(home), "LIFELOG_AUDIO_SOURCE": "none", **extra}


def _lessons(env: dict) -> list[dict]:
    return json.loads(lifelog("lessons", "--json", env=env).stdout)


def test_lessons_are_kept_edited_removed_and_first_in_a_window(tmp_path):
    home = tmp_path / "home"
    deploys(home)
    env = _env(home)
    assert "No lessons yet" in lifelog("lessons", env=env).stderr
    one = json.loads(lifelog("lessons", "add", "Run the migration dry-run before deploying", "--json", env=env).stdout)
    two = json.loads(
        lifelog("lessons", "add", "Raise the lock timeout to 120 s for big migrations", "--json", env=env).stdout
    )
    assert (one["id"], two["id"], one["model"]) == (1, 2, None)
    edited = lifelog("lessons", "edit", "1", "Run   the migration\ndry-run first", env=env)
    assert "Changed lesson [1]: Run the migration dry-run first" in edited.stderr
    assert [x["text"] for x in _lessons(env)] == [
        "Run the migration dry-run first",
        "Raise the lock timeout to 120 s for big migrations",
    ]

    args = ("context", "--since", "2026-11-02", "--until", "2026-11-05", "--budget", "300", "--lessons")
    first, second = lifelog(*args, env=env), lifelog(*args, env=env)
    assert first.stdout == second.stdout  # a stable prefix, for provider prompt caches
    assert first.stdout.startswith(
        "## Lessons (kept first; from earlier work)\n\n- Run the migration dry-run first\n"
        "- Raise the lock timeout to 120 s for big migrations\n\n# Computer activity"
    )
    assert get_tokenizer("o200k").count(first.stdout) <= 300 and "of 300;" in first.stderr
    plain = lifelog(*args[:-1], env=env).stdout
    assert "Lessons" not in plain and plain.startswith("# Computer activity")

    removed = lifelog("lessons", "rm", "2", env=env)
    assert "Removed lesson [2]" in removed.stderr and [x["id"] for x in _lessons(env)] == [1]
    for bad, says in [
        (("lessons", "rm", "9"), "No lesson 9"),
        (("lessons", "edit", "9", "x"), "No lesson 9"),
        (("lessons", "add", "   "), "Empty lesson"),
        (("lessons", "add", "x" * 501), "at most 500 characters"),
        (("context", "--lessons", "-f", "json"), "--lessons goes with markdown windows"),
    ]:
        proc = lifelog(*bad, env=env, check=False)
        assert proc.returncode == 2 and says in proc.stderr and "Traceback" not in proc.stderr, (bad, proc.stderr)


def test_lessons_through_a_running_owner_and_in_ask(tmp_path):
    home = tmp_path / "home"
    deploys(home)
    env = _env(home)
    with served(Paths(home)):
        lifelog("lessons", "add", "Check the lock timeout before deploying", env=env)
        assert [x["text"] for x in _lessons(env)] == ["Check the lock timeout before deploying"]
        with FakeOpenAI("stream") as api:
            ask = ("ask", "why did the deploy fail?", "--since", "2026-11-02", "--until", "2026-11-05")
            ask += ("--base-url", api.base_url, "--model", "qwen3", "--budget", "4000")
            lifelog(*ask, env=env)
            lifelog(*ask, env={**env, "LIFELOG_ASK_LESSONS": "false"})
    with_lessons, without = (r["body"]["messages"][1]["content"] for r in api.requests)
    assert with_lessons.startswith("## Lessons (kept first; from earlier work)\n\n- Check the lock timeout")
    assert without.startswith("# Computer activity")


def test_reflect_keeps_grounded_lessons_with_their_moments_and_drops_made_up_ones(tmp_path):
    home = tmp_path / "home"
    deploys(home)
    env = _env(home)
    answer = (
        "Lessons:\n"
        "- At 10:00 the deploy failed again: database migration 001 timed out; raise the lock timeout first.\n"
        "- Always water the office plants on Fridays before the quarterly yoga retreat.\n"
    )
    with FakeOpenAI("events") as api:
        api.events = [{"choices": [{"index": 0, "delta": {"content": answer}}]}]
        done = json.loads(
            lifelog(
                "lessons", "reflect", "--since", "2026-11-02", "--until", "2026-11-03",
                "--base-url", api.base_url, "--model", "qwen3", "--json", env=env,
            ).stdout
        )  # fmt: skip
    (request,) = api.requests
    sent = request["body"]["messages"][-1]["content"]
    assert "ERROR deploy 0 failed: database migration 000 timed out" in sent  # the day's digests, read
    assert done["hours"] == 2 and [x["text"] for x in done["lessons"]] == [
        "At 10:00 the deploy failed again: database migration 001 timed out; raise the lock timeout first."
    ]
    (kept,) = _lessons(env)
    assert kept["model"] == "qwen3"
    assert [m["t"] for m in kept["sources"]] == ["2026-11-02T10:00:00Z"]  # the moment it names
