"""``lifelog digest`` and ``lifelog digests`` in subprocesses, on a timeline written through the
store into a private home: with no owner (the command opens the file) and through an owner
serving the home's socket; a bad level is one line and exit 2; ``status`` shows the backlog."""

from __future__ import annotations

import json
import os
from pathlib import Path

from lifelog.paths import Paths
from tests.api.serving import served
from tests.cli.helpers import lifelog
from tests.support.deploys import deploys


def _env(home: Path) -> dict:
    return {**os.environ, "LIFELOG_HOME": str(home), "LIFELOG_AUDIO_SOURCE": "none"}


def test_digest_then_read_the_digests_without_an_owner(tmp_path):
    home = tmp_path / "home"
    deploys(home)
    made = lifelog("digest", "--json", env=_env(home))
    report = json.loads(made.stdout)
    assert (report["hours"], report["days"], report["weeks"], report["left"]) == (4, 2, 1, 0)
    again = lifelog("digest", env=_env(home))
    assert "Every digest is up to date" in again.stderr

    days = json.loads(lifelog("digests", "--since", "2026-11-01", "--json", env=_env(home)).stdout)
    assert [(d["level"], d["start"]) for d in days] == [
        ("day", "2026-11-02T00:00:00Z"),
        ("week", "2026-11-02T00:00:00Z"),
        ("day", "2026-11-03T00:00:00Z"),
    ]
    first = days[0]
    assert "ERROR deploy 0 failed: database migration 000 timed out" in first["text"]
    assert first["sources"]["lines"][0]["t"] == "2026-11-02T09:00:00Z" and first["model"] == "extractive"

    hours = json.loads(lifelog("digests", "--since", "2026-11-01", "--level", "hour", "--json", env=_env(home)).stdout)
    assert [d["start"][11:16] for d in hours] == ["09:00", "10:00", "09:00", "10:00"]
    shown = lifelog("digests", "--since", "2026-11-01", env=_env(home)).stdout
    assert "## 2026-11-02 · day (" in shown and "## week of 2026-11-02 · week (" in shown
    # the same error an hour later, numbers aside: counted, not shown again
    assert (
        "- 09:00 [XTerm · bash: api] ERROR deploy 0 failed: database migration 000 timed out (+1 like it, to 10:00)"
        in shown
    )
    assert json.loads(lifelog("status", "--json", env=_env(home)).stdout)["digest_backlog"] == 0


def test_digest_through_a_running_owner_and_bad_input(tmp_path):
    home = tmp_path / "home"
    deploys(home)
    with served(Paths(home)):
        report = json.loads(lifelog("digest", "--since", "2026-11-03", "--json", env=_env(home)).stdout)
        assert (report["hours"], report["days"]) == (2, 1)  # the second day alone
        days = json.loads(
            lifelog("digests", "--since", "2026-11-01", "--level", "day", "--json", env=_env(home)).stdout
        )
        assert [d["start"] for d in days] == ["2026-11-03T00:00:00Z"]
        bad = lifelog("digests", "--level", "month", env=_env(home), check=False)
    assert bad.returncode == 2 and "Unknown digest level 'month'. Valid: hour, day, week." in bad.stderr
    assert "Traceback" not in bad.stderr
    none = lifelog("digests", "--since", "2020-01-01", "--until", "2020-02-01", env=_env(home), check=False)
    assert none.returncode == 1 and "No digests in this range yet" in none.stderr
