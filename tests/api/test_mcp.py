"""``lifelog mcp`` with a real MCP client (the SDK's stdio client) on a real data folder with no
daemon running: every tool answers what the CLI answers for the same range, bad arguments are
tool errors of one line, and the server goes on answering after them."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import numpy as np
import pytest
from mcp.shared.exceptions import MCPError
from PIL import Image

from tests.cli.helpers import lifelog, lifelog_json
from tests.replay.screens import T0, record
from tests.support.mcp_client import as_json, error, image, text, with_session

SINCE, UNTIL = "2026-11-24T08:55:00Z", "2026-11-24T10:30:00Z"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    home = tmp_path_factory.mktemp("mcp") / "home"
    rec = record(home)
    rec.store.close()
    return rec, {**os.environ, "LIFELOG_HOME": str(home), "TZ": "Asia/Shanghai"}  # local hours are not UTC ones


def test_tools_are_listed_with_schemas_from_the_calls(recorded):
    _, env = recorded

    async def work(session):
        return (await session.list_tools()).tools

    tools = {t.name: t for t in with_session(env, work)}
    assert set(tools) == {"search", "context", "activity", "now", "frame", "digests", "lessons", "add_lesson"}
    assert tools["search"].input_schema["required"] == ["query"]
    assert tools["frame"].input_schema["required"] == ["at"]
    context = tools["context"].input_schema["properties"]
    assert set(context) == {"since", "until", "query", "budget", "model", "format"}
    assert context["budget"] == {"type": "integer", "description": context["budget"]["description"], "default": 20000}
    assert "yesterday" in context["since"]["description"]
    assert all(t.annotations.read_only_hint for name, t in tools.items() if name != "add_lesson")
    assert all(t.description and len(t.description) > 60 for t in tools.values())


def test_each_tool_answers_what_the_cli_answers(recorded):
    rec, env = recorded
    at = T0 + timedelta(seconds=20)

    async def work(session):
        return (
            await session.call_tool("search", {"query": "invoice", "since": SINCE, "until": UNTIL}),
            await session.call_tool("context", {"since": SINCE, "until": UNTIL, "budget": 3000}),
            await session.call_tool("context", {"since": SINCE, "until": UNTIL, "budget": 3000, "format": "json"}),
            await session.call_tool("activity", {"since": SINCE, "until": UNTIL}),
            await session.call_tool("now", {}),
            await session.call_tool("frame", {"at": f"{at.isoformat()}Z"}),
        )

    search, window, window_json, activity, now, frame = with_session(env, work)
    assert as_json(search) == lifelog_json("search", "invoice", "--since", SINCE, "--until", UNTIL, env=env)
    assert "Invoice 4821" in text(search)
    cli = lifelog("context", "--since", SINCE, "--until", UNTIL, "--budget", "3000", env=env)
    assert text(window) == cli.stdout
    assert window.structured_content["tokens"] <= 3000 and window.structured_content["budget"] == 3000
    assert json.loads(text(window_json)) == json.loads(
        lifelog("context", "--since", SINCE, "--until", UNTIL, "--budget", "3000", "-f", "json", env=env).stdout
    )
    assert as_json(activity) == lifelog_json("timeline", "--since", SINCE, "--until", UNTIL, env=env)
    assert as_json(activity)["utc_offset_minutes"] == 480  # hours cut in the user's zone, as the CLI cuts them

    glance = as_json(now)
    assert glance["last_screen_at"] == f"{T0 + timedelta(minutes=72):%Y-%m-%dT%H:%M:%S}Z"
    (notes,) = glance["screens"]
    assert (notes["app"], notes["window"]) == ("gedit", "notes.md")
    assert notes["lines"] == ["Meeting notes", "Ship the parser on Thursday", "Ask Dana about the budget"]
    assert glance["recorder"] is None  # no daemon: nothing records

    pixels = image(frame)
    assert pixels.shape == (720, 1280, 3)  # 1920x1080 scaled to the default 1280 wide
    want = np.asarray(Image.fromarray(rec.screens[at]).resize((1280, 720), Image.Resampling.LANCZOS))
    assert np.abs(pixels.astype(int) - want.astype(int)).mean() < 2
    assert frame.structured_content["ts"] == f"{at.isoformat()}Z"
    assert (frame.structured_content["app"], frame.structured_content["screen_width"]) == ("firefox", 1920)


def test_bad_arguments_are_tool_errors_and_the_server_goes_on(recorded):
    _, env = recorded

    async def work(session):
        errors = [
            await session.call_tool("search", {}),
            await session.call_tool("search", {"query": 5}),
            await session.call_tool("search", {"query": "x", "limit": True}),
            await session.call_tool("search", {"query": "x", "colour": "red"}),
            await session.call_tool("context", {"since": "last tuesday-ish"}),
            await session.call_tool("context", {"since": "1h", "until": "2h"}),
            await session.call_tool("context", {"budget": 0}),
            await session.call_tool("context", {"model": "no-such-model-9000"}),
            await session.call_tool("frame", {"at": "2020-01-01T00:00:00Z"}),
            await session.call_tool("frame", {"at": "1h", "width": 10}),
            await session.call_tool("now", {"minutes": 99999}),
        ]
        try:
            await session.call_tool("delete_everything", {})
            unknown = None
        except MCPError as exc:
            unknown = exc
        after = await session.call_tool("search", {"query": "invoice", "since": SINCE, "until": UNTIL})
        return errors, unknown, after

    errors, unknown, after = with_session(env, work)
    lines = [error(r) for r in errors]
    assert "query is required" in lines[0]
    assert "query must be string" in lines[1]
    assert "limit must be integer" in lines[2]
    assert "Unknown argument colour" in lines[3]
    assert "Bad time 'last tuesday-ish'" in lines[4]
    assert "must be after" in lines[5]
    assert "budget" in lines[6].lower()
    assert "no-such-model-9000" in lines[7]
    assert "No screen is stored at or before 2020-01-01" in lines[8]
    assert "width must be 64 to 4096" in lines[9]
    assert "minutes must be 1 to 1440" in lines[10]
    assert unknown is not None and "Unknown tool 'delete_everything'" in str(unknown)
    assert "Invoice 4821" in text(after)


def test_digests_answer_what_the_cli_answers(recorded):
    _, env = recorded
    lifelog("digest", env=env)  # the recorded hours, digested (last in this file: windows may use them)

    async def work(session):
        return (
            await session.call_tool("digests", {"since": SINCE, "until": UNTIL, "level": "hour"}),
            await session.call_tool("digests", {"level": "month"}),
        )

    hours, bad = with_session(env, work)
    assert as_json(hours) == lifelog_json("digests", "--since", SINCE, "--until", UNTIL, "--level", "hour", env=env)
    assert as_json(hours)[0]["start"] == "2026-11-24T09:00:00Z" and "Invoice 4821" in as_json(hours)[0]["text"]
    assert bad.is_error and "Unknown digest level 'month'" in error(bad)


def test_lessons_are_listed_and_an_agent_can_keep_one(recorded):
    """``lessons`` lists what ``lifelog lessons`` lists; ``add_lesson`` (the one tool that writes:
    it only adds) keeps a lesson the CLI then lists, named after the agent; a bad one is one line."""
    _, env = recorded
    lifelog("lessons", "add", "Ask Dana before changing the budget.", env=env)

    async def work(session):
        tools = {t.name: t for t in (await session.list_tools()).tools}
        return (
            tools,
            await session.call_tool("lessons", {}),
            await session.call_tool("add_lesson", {"text": "Invoice 4821 goes to   accounting, not Dana."}),
            await session.call_tool("add_lesson", {"text": "Ship the parser on Thursday.", "model": "claude"}),
            await session.call_tool("add_lesson", {"text": "   "}),
            await session.call_tool("add_lesson", {}),
            await session.call_tool("lessons", {}),
        )

    tools, before, added, named, empty, missing, after = with_session(env, work)
    assert tools["add_lesson"].annotations.read_only_hint is False
    assert tools["add_lesson"].annotations.destructive_hint is False
    assert tools["lessons"].annotations.read_only_hint is True
    assert tools["add_lesson"].input_schema["required"] == ["text"]
    assert [x["text"] for x in as_json(before)] == ["Ask Dana before changing the budget."]
    assert before.structured_content == {"results": as_json(before)}
    assert as_json(added)["text"] == "Invoice 4821 goes to accounting, not Dana." and as_json(added)["model"] == "mcp"
    assert as_json(named)["model"] == "claude"
    assert "Empty lesson" in error(empty) and "text is required" in error(missing)
    listed = lifelog_json("lessons", "--json", env=env)
    assert as_json(after) == listed
    assert [x["text"] for x in listed] == [
        "Ask Dana before changing the budget.",
        "Invoice 4821 goes to accounting, not Dana.",
        "Ship the parser on Thursday.",
    ]
