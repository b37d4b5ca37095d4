"""`lifelog context --query` end to end: the real command finds a fact planted days back in a
small window, the owner answers with the same bytes, and a query with no match says so."""

from __future__ import annotations

import os

import pytest

from lifelog.api.server import OwnerServer
from lifelog.api.timeline import LocalTimeline
from lifelog.daemon.ownership import OwnerLock
from lifelog.paths import Paths
from lifelog.store import Store
from tests.cli.helpers import lifelog
from tests.support.facts import FACTS, QUERIES, T0, at, plant

DAYS = 5
RANGE = ["--since", T0.isoformat() + "+00:00", "--until", at(DAYS, 0, 0).isoformat() + "+00:00"]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    paths = Paths(tmp_path_factory.mktemp("cli-query") / "home").ensure()
    plant(Store(paths.db), days=DAYS)
    return paths


@pytest.fixture
def env(home):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LIFELOG_")}
    return {**clean, "LIFELOG_HOME": str(home.home)}


def test_query_brings_an_old_fact_into_a_small_window_alone_and_through_the_owner(env, home):
    args = ("context", *RANGE, "--budget", "3000", "--query", QUERIES[0])
    alone = lifelog(*args, env=env)
    assert FACTS[0][4] in alone.stdout and "around the best matches for" in alone.stdout
    assert "of 3,000" in alone.stderr
    plain = lifelog("context", *RANGE, "--budget", "3000", env=env)
    assert FACTS[0][4] not in plain.stdout
    lock = OwnerLock(home, "test")
    store = Store.open_owner(home.db)
    server = OwnerServer(home, LocalTimeline(home, store), lock.info).start()
    try:
        served = lifelog(*args, env=env)
        missing = lifelog("context", *RANGE, "--budget", "3000", "--query", "zyzzyva quokka", env=env)
    finally:
        server.stop()
        store.close()
        lock.release()
    assert served.stdout == alone.stdout and served.stderr == alone.stderr
    assert "Nothing in this range matches 'zyzzyva quokka'" in missing.stderr


def test_ask_aims_a_window_that_does_not_fit_at_the_question(env):
    from tests.support.fake_openai import FakeOpenAI

    with FakeOpenAI("stream") as api:
        lifelog(
            "ask",
            "who rotated the staging database password?",
            *RANGE,
            "--budget",
            "4000",
            "--model",
            "gpt-4o",
            "--base-url",
            api.base_url,
            env={**env, "OPENAI_API_KEY": "k"},
        )
    (request,) = api.requests
    window = request["body"]["messages"][1]["content"]
    assert FACTS[0][4] in window and window.rstrip().endswith("who rotated the staging database password?")
