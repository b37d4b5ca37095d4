"""``activity`` and ``lifelog timeline`` through a real owner on its socket (served in this
process, the CLI in a subprocess) give what the file gives when no owner runs; bad ranges and
empty ones are one line."""

from __future__ import annotations

import json
import os

import pytest

from lifelog.api.client import find_owner
from lifelog.api.timeline import LocalTimeline
from lifelog.errors import LifelogError
from lifelog.paths import Paths
from lifelog.store import Store
from tests.api.serving import served
from tests.cli.helpers import lifelog
from tests.support.activity import DAY, build_day

SINCE, UNTIL = "2026-11-30T08:30:00", "2026-11-30T12:00:00"
RANGE = ("--since", SINCE, "--until", UNTIL)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Paths:
    paths = Paths(tmp_path_factory.mktemp("activity-owner") / "home").ensure()
    build_day(Store(paths.db))
    return paths


def _env(paths: Paths) -> dict:
    return {**os.environ, "LIFELOG_HOME": str(paths.home), "TZ": "UTC"}  # --since and --until are local times


def test_the_owner_answers_what_the_file_answers(home):
    since, until = DAY.replace(hour=8, minute=30), DAY.replace(hour=12)
    local = LocalTimeline(home, Store(home.db)).activity(since=since, until=until, utc_offset=60)
    with served(home):
        remote = find_owner(home)
        assert remote is not None
        try:
            assert remote.activity(since=since, until=until, utc_offset=60) == local
            with pytest.raises(LifelogError, match="utc_offset") as refused:
                remote.activity(since=since, utc_offset=10_000)
            assert "\n" not in str(refused.value)
        finally:
            remote.close()
        through_owner = json.loads(lifelog("timeline", *RANGE, "--json", env=_env(home)).stdout)
    from_file = json.loads(lifelog("timeline", *RANGE, "--json", env=_env(home)).stdout)
    assert through_owner == from_file
    assert from_file["totals"]["active_minutes"] == 20 and from_file["utc_offset_minutes"] == 0


def test_the_table_shows_apps_coverage_and_gaps(home):
    shown = lifelog("timeline", *RANGE, env=_env(home)).stdout
    for expected in (
        "firefox",
        "XTerm",
        "code",
        "Screen",
        "Speech",
        "09:00",
        "10:00",
        "paused",
        "recorder down",
        "60%",
    ):
        assert expected in shown, (expected, shown)
    assert "4 of 16 minutes with screen changes had no text read" in shown
    assert "shed: OCR behind (7 changes not read)" in shown


def test_a_bad_range_is_one_line_and_an_empty_one_says_so(home, tmp_path):
    bad = lifelog("timeline", "--since", "2h", "--until", "3h", env=_env(home), check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "must be after" in bad.stderr
    empty = Paths(tmp_path / "empty").ensure()
    nothing = lifelog("timeline", env=_env(empty))
    assert nothing.stdout == "" and "Nothing was recorded" in nothing.stderr
    as_json = json.loads(lifelog("timeline", "--json", env=_env(empty)).stdout)
    assert as_json["buckets"] == [] and as_json["totals"]["active_minutes"] == 0
