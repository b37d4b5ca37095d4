"""`lifelog context --format messages --images N` end to end: the real command on a data folder
with real stored screens writes an OpenAI chat request with N screenshots, the same bytes
whether it answers itself or the running owner answers over its socket."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
from datetime import timedelta

import pytest
from PIL import Image

from lifelog.api.server import OwnerServer
from lifelog.api.timeline import LocalTimeline
from lifelog.daemon.ownership import OwnerLock
from lifelog.store import Store
from tests.cli.helpers import lifelog
from tests.replay.screens import T0, record

RANGE = [
    "--since",
    (T0 - timedelta(minutes=1)).isoformat() + "+00:00",
    "--until",
    (T0 + timedelta(hours=2)).isoformat() + "+00:00",
]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return record(tmp_path_factory.mktemp("cli-messages") / "home").paths


@pytest.fixture
def env(home):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LIFELOG_")}
    return {**clean, "LIFELOG_HOME": str(home.home)}


def _sizes(doc: dict) -> list[tuple[int, int]]:
    sizes = []
    for part in doc["messages"][1]["content"]:
        if part["type"] == "image_url":
            data = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
            with Image.open(io.BytesIO(data)) as im:
                sizes.append(im.size)
    return sizes


def test_messages_with_images_to_a_file(env, tmp_path):
    out = tmp_path / "request.json"
    proc = lifelog(
        "context",
        *RANGE,
        "--format",
        "messages",
        "--images",
        "2",
        "--model",
        "claude-sonnet-4-5",
        "-o",
        str(out),
        env=env,
    )
    assert proc.stdout == ""
    assert "2 images" in proc.stderr and "(claude-approx) of 180,000" in proc.stderr
    doc = json.loads(out.read_text())
    assert doc["model"] == "claude-sonnet-4-5" and [m["role"] for m in doc["messages"]] == ["system", "user"]
    assert _sizes(doc) == [(1429, 804)] * 2  # Claude's limits: long edge <= 1,568 px, <= 1.15 megapixels
    assert "Invoice 4821" in out.read_text() and stat.S_IMODE(out.stat().st_mode) == 0o600


def test_messages_without_images_on_stdout(env):
    proc = lifelog("context", *RANGE, "--format", "messages", "--budget", "2000", env=env)
    doc = json.loads(proc.stdout)
    assert "model" not in doc and _sizes(doc) == []
    assert "Meeting notes" in doc["messages"][1]["content"][0]["text"]
    assert "of 2,000" in proc.stderr and "image" not in proc.stderr


def test_the_owner_gives_the_same_bytes(env, home):
    args = ("context", *RANGE, "--format", "messages", "--images", "3", "--model", "gpt-4o", "--budget", "20k")
    alone = lifelog(*args, env=env)
    lock = OwnerLock(home, "test")
    store = Store.open_owner(home.db)
    server = OwnerServer(home, LocalTimeline(home, store), lock.info).start()
    try:
        served = lifelog(*args, env=env)
        bad = lifelog(
            "context", *RANGE, "--format", "messages", "--images", "3", "--model", "llama3.1", env=env, check=False
        )
    finally:
        server.stop()
        store.close()
        lock.release()
    assert served.stdout == alone.stdout and served.stderr == alone.stderr
    assert _sizes(json.loads(served.stdout)) == [(1365, 768)] * 3
    assert bad.returncode == 2 and "no image rate for 'llama3.1'" in bad.stderr and "Traceback" not in bad.stderr
