"""``lifelog mcp`` while the daemon records a changing xterm on the test's X screen: a real MCP
client lists the tools and calls each one, through the owner (the database is the owner's while
it runs), and gets what the CLI gives for the same range."""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from tests.cli.helpers import lifelog, lifelog_json
from tests.support.mcp_client import as_json, image, text, with_session
from tests.support.wait import wait_for

TICKER = 'i=100; while true; do i=$((i+1)); echo "invoice $i approved by Dana"; sleep 0.5; done'

pytestmark = pytest.mark.xvfb


@pytest.fixture
def env(screen, home):
    return {**os.environ, "DISPLAY": screen.display, "LIFELOG_HOME": str(home), "LIFELOG_AUDIO_SOURCE": "none"}


@pytest.fixture
def recording(env):
    """A daemon recording an xterm that prints a new line twice a second."""
    started = lifelog_json("daemon", "start", env=env, timeout=180)
    ticker = subprocess.Popen(
        ["xterm", "-geometry", "100x30+0+0", "-fa", "DejaVu Sans Mono", "-fs", "13", "-e", "sh", "-c", TICKER],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield started
    finally:
        ticker.terminate()
        lifelog("daemon", "stop", env=env, timeout=300, check=False)
        try:
            os.kill(started["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def test_every_tool_through_the_recording_owner(recording, env):
    wait_for(lambda: lifelog_json("search", "approved", env=env), timeout=120, what="the xterm's text stored")

    async def glance(session):
        return (
            await session.call_tool("now", {"minutes": 2, "budget": 500}),
            await session.call_tool("frame", {"at": "now", "width": 640}),
        )

    now, frame = with_session(env, glance)
    glanced = as_json(now)
    assert glanced["recorder"]["capturing"] is True
    assert any("approved by Dana" in line for s in glanced["screens"] for line in s["lines"])
    assert glanced["recent"]["tokens"] <= 500
    pixels = image(frame)
    assert pixels.shape[1] == 640 and frame.structured_content["width"] == 640
    assert pixels.std() > 5  # a screen with an xterm on it, not a blank image

    # Paused and drained, the timeline holds still while the owner still answers every read, so
    # the tools and the CLI read the same rows (while recording, a line's end and BM25's counts move).
    lifelog("pause", env=env)
    wait_for(lambda: lifelog_json("status", env=env)["pending_frames"] == 0, timeout=120, what="the spool drained")
    since = _iso(datetime.now(UTC) - timedelta(minutes=10))
    until = _iso(datetime.now(UTC))

    async def reads(session):
        tools = {t.name for t in (await session.list_tools()).tools}
        return tools, (
            await session.call_tool("search", {"query": "approved Dana", "since": since, "until": until}),
            await session.call_tool("context", {"since": since, "until": until, "budget": 4000}),
            await session.call_tool("activity", {"since": since, "until": until}),
            await session.call_tool("add_lesson", {"text": "Get Dana's approval before sending an invoice."}),
        )

    tools, (search, window, activity, kept) = with_session(env, reads)
    assert tools == {"search", "context", "activity", "now", "frame", "digests", "lessons", "add_lesson"}
    assert lifelog_json("lessons", "--json", env=env) == [as_json(kept)]  # kept by the owner
    assert as_json(search) == lifelog_json("search", "approved Dana", "--since", since, "--until", until, env=env)
    assert as_json(search)[0]["text"].startswith("invoice")
    assert text(window) == lifelog("context", "--since", since, "--until", until, "--budget", "4000", env=env).stdout
    assert "approved by Dana" in text(window)
    assert as_json(activity) == lifelog_json("timeline", "--since", since, "--until", until, env=env)
