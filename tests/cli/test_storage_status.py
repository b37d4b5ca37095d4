"""``lifelog status`` says what is excluded, encrypted, kept how long and what each kind costs;
``lifelog config set storage_max`` refuses a budget below what one recorded day needs. Real
commands in subprocesses over a real timeline with real frame and audio files."""

from __future__ import annotations

import os
import re
from pathlib import Path

from lifelog.store import Store, retention
from tests.cli.helpers import lifelog, lifelog_json
from tests.store.retention_timeline import NOW, build


def _tree(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def test_status_reports_privacy_retention_and_storage_by_kind(home):
    env = {**os.environ, "LIFELOG_HOME": str(home)}
    paths, store = build(home)
    lifelog("config", "set", "exclude_apps", '["keepassxc", "signal"]', env=env)
    lifelog("config", "set", "keep_images", "36h", env=env)
    lifelog("config", "set", "storage_max", "2GB", env=env)
    retention.run_pass(Store(paths.db), paths, retention.Policy(keep_images_s=36 * 3600), now=NOW)

    data = lifelog_json("status", env=env)
    assert data["excluded"]["apps"] == ["keepassxc", "signal"]
    assert any("incognito" in t for t in data["excluded"]["titles"]) and data["excluded"]["audio"] is True
    assert data["encrypted"] is False
    assert data["kept"] == {"images": "36h", "audio": "", "text": ""}
    assert data["storage_max_bytes"] == 2_000_000_000 and data["disk_free_bytes"] > 0
    storage = data["storage"]
    assert storage["frame_images"] == _tree(paths.frames) > 0
    assert storage["audio"] == _tree(paths.audio) > 0
    assert storage["database"] >= paths.db.stat().st_size > 0
    assert storage["total"] == sum(v for k, v in storage.items() if k != "total")
    assert data["retention"]["images"] == 360 and data["retention"]["budget"] == 0  # day 0's, before NOW - 36 h

    text = lifelog("status", env=env).stdout
    assert "apps keepassxc, signal" in text
    assert "frame images 36h, audio for ever, text for ever; budget 2.0 GB" in text
    assert f"removed {data['retention']['images']:,} frame images" in text


def test_a_storage_budget_below_one_recorded_day_is_refused(home):
    env = {**os.environ, "LIFELOG_HOME": str(home)}
    bad = lifelog("config", "set", "storage_max", "150MB", env=env, check=False)  # nothing recorded: a 200 MB floor
    assert bad.returncode == 2 and "below what one day of recording needs (~200 MB" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and not (home / "config" / "config.toml").exists()

    paths, _ = build(home)
    for day in ("2026-03-02", "2026-03-03"):  # two recorded days of ~450 MB of frames each (sparse files)
        with open(paths.frames / day / "big.webp", "wb") as fh:
            fh.truncate(450_000_000)
    bad = lifelog("config", "set", "storage_max", "300MB", env=env, check=False)
    assert bad.returncode == 2, bad.stderr
    assert re.search(
        r"\(~45\d MB, measured over the last 2 recorded days\): give at least 500MB\.$", bad.stderr.strip()
    )
    lifelog("config", "set", "storage_max", "1GB", env=env)
    assert 'storage_max = "1GB"' in (home / "config" / "config.toml").read_text()
