"""Each facade call is declared once (``api/calls.py``): the local timeline answers exactly the
declared parameters, the facade's methods bind them as Python would with the declared defaults,
and a real owner on a real socket says its calls' versions, which the client holds a call to
before sending it (an older owner is asked to restart rather than ignore a parameter)."""

from __future__ import annotations

import inspect
import json
from datetime import datetime

import pytest

from lifelog.api import calls, server
from lifelog.api.calls import CALLS, REQUIRED
from lifelog.api.client import OwnerError, find_owner
from lifelog.api.protocol import HEADER, PROTOCOL
from lifelog.api.timeline import LocalTimeline, Timeline, chunk_for_import
from lifelog.models import Transcript
from lifelog.paths import Paths
from lifelog.store import Store
from tests.api.rawhttp import exchange, request, serving


@pytest.fixture
def home(tmp_path) -> Paths:
    return Paths(tmp_path / "home").ensure()


def test_the_local_timeline_answers_each_declared_call_with_its_declared_parameters():
    answers = {name.removeprefix("answer_") for name in dir(LocalTimeline) if name.startswith("answer_")}
    assert answers == set(CALLS)
    for call in CALLS.values():
        params = list(inspect.signature(getattr(LocalTimeline, f"answer_{call.name}")).parameters.values())[1:]
        assert [p.name for p in params] == [p.name for p in call.params], call.name
        assert all(p.default is inspect.Parameter.empty for p in params), f"{call.name}: defaults live in calls.py"


def test_every_call_and_parameter_says_in_one_line_what_it_is():
    for call in CALLS.values():
        assert call.doc and "\n" not in call.doc and call.path.startswith("/") and call.method in ("GET", "POST")
        for p in call.params:
            assert p.doc.endswith(".") and "\n" not in p.doc, (call.name, p.name)
            assert call.where(p) in ("query", "body", "upload")


def test_the_facade_binds_a_call_as_python_does_with_the_declared_defaults(home):
    timeline = LocalTimeline(home, Store(home.db))
    window = timeline.context(budget=2000)
    assert (window.fmt, window.tokenizer) == (calls.DEFAULT_FORMAT, "o200k")
    assert timeline.search("anything") == []
    with pytest.raises(TypeError, match="unexpected keyword argument 'limt'"):
        timeline.search("anything", limt=3)
    with pytest.raises(TypeError, match="missing a required argument: 'budget'"):
        timeline.context()
    shown = inspect.signature(Timeline.context)
    assert shown.parameters["fmt"].default == "markdown" and shown.parameters["budget"].default is REQUIRED
    assert Timeline.context.__doc__ == CALLS["context"].doc


def test_the_owner_says_each_calls_version_and_answers_a_newer_parameter(home):
    with serving(home):
        remote = find_owner(home)
        try:
            assert remote.owner["calls"] == calls.versions() and remote.owner["calls"]["context"] == 3
            window = remote.context(budget=2000, query="what was on screen")
            assert window.tokens <= 2000
        finally:
            remote.close()


def test_a_parameter_newer_than_the_owners_call_is_refused_in_one_line_before_it_is_sent(home, monkeypatch):
    monkeypatch.setattr(server, "versions", lambda: {**calls.versions(), "context": 1})  # an owner before `query`
    with serving(home):
        remote = find_owner(home)
        try:
            with pytest.raises(OwnerError) as refused:
                remote.context(budget=2000, query="what was on screen")
            assert remote.context(budget=2000).tokens <= 2000  # without it, the call goes as before
        finally:
            remote.close()
    message = str(refused.value)
    assert "\n" not in message and refused.value.exit_code == 1
    assert "answers context at version 1, and context with query needs version 2" in message
    assert "Restart it (`lifelog daemon restart`)" in message


def test_an_owner_from_before_per_call_versions_answers_version_1_of_each_call(home, monkeypatch):
    monkeypatch.setattr(server, "versions", dict)  # health lists no calls
    with serving(home):
        remote = find_owner(home)
        try:
            assert remote.search("anything") == []
            with pytest.raises(OwnerError, match="context with query needs version 2"):
                remote.context(budget=2000, query="what")
        finally:
            remote.close()


def test_a_call_the_owner_does_not_list_is_refused_before_it_is_sent(home, monkeypatch):
    monkeypatch.setattr(server, "versions", lambda: {k: v for k, v in calls.versions().items() if k != "forget"})
    with serving(home):
        remote = find_owner(home)
        try:
            with pytest.raises(OwnerError, match=r"does not know forget: it is an older lifelog\. Restart it"):
                remote.forget(matching="salary", dry_run=True)
        finally:
            remote.close()


def test_a_missing_field_is_a_400_naming_it(home):
    with serving(home) as owner:
        answer = exchange(
            owner.socket,
            request("POST", f"/v{PROTOCOL}/context", json.dumps({"format": "json"}).encode(), {HEADER: str(PROTOCOL)}),
        )
    assert answer.status == 400
    assert answer.error() == {
        "error": f"Bad request: POST /v{PROTOCOL}/context needs the field 'budget'.",
        "exit_code": 2,
    }


def test_an_imported_recording_goes_through_the_owner_whole(home):
    """``lifelog import`` of a recording while an owner runs: records and times cross the wire."""
    at = datetime(2026, 11, 24, 10, 0)
    rows = [
        Transcript(at, datetime(2026, 11, 24, 10, 0, 4), "file", "test", "the quarterly numbers", 4),
        Transcript(datetime(2026, 11, 24, 10, 0, 5), datetime(2026, 11, 24, 10, 0, 9), "file", "test", "look fine", 2),
    ]
    with serving(home):
        remote = find_owner(home)
        try:
            assert remote.import_transcripts(rows, chunk_for_import(at, 9.0), file="memo.m4a") == {"transcripts": 2}
            hits = remote.search("quarterly")
        finally:
            remote.close()
    assert len(hits) == 1 and "quarterly numbers" in hits[0]["text"]
