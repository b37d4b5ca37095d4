"""Where the time went (the facade's ``activity`` call): active minutes per app and bucket, text
coverage, frames, tokens and gaps by reason, counted from a real DuckDB timeline written through
the writer, answered locally (``tests/api/test_activity_owner.py`` asks a running owner)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from lifelog.api.timeline import LocalTimeline
from lifelog.errors import UsageError
from lifelog.models import AudioChunkRecord, OcrLine, Transcript
from lifelog.paths import Paths
from lifelog.store import Store
from lifelog.tokenize_media.tokenizers import get_tokenizer
from tests.support.activity import DAY, LINES, build_day
from tests.support.writes import show

AT = DAY.replace(hour=9)


@pytest.fixture(scope="module")
def timeline(tmp_path_factory) -> LocalTimeline:
    paths = Paths(tmp_path_factory.mktemp("activity") / "home").ensure()
    store = Store(paths.db)
    build_day(store)
    return LocalTimeline(paths, store)


def _day(timeline, **kw) -> dict:
    return timeline.activity(since=DAY.replace(hour=8, minute=30), until=DAY.replace(hour=12), **kw)


def test_each_active_minute_counts_once_for_the_app_in_front(timeline):
    got = _day(timeline)
    assert got["bucket"] == "hour"
    assert got["totals"]["active_minutes"] == 20
    # firefox 09:00-09:09; XTerm 09:10-09:14; 09:20 code (two frames to firefox's one); sound at
    # 09:30-09:32 and imported speech at 10:05 with no frame: the app last in front, code
    assert got["apps"] == [
        {"app": "firefox", "minutes": 10},
        {"app": "XTerm", "minutes": 5},
        {"app": "code", "minutes": 5},
    ]
    assert got["other_apps"] == {"apps": 0, "minutes": 0}
    nine, ten = got["buckets"]
    assert (nine["start"], ten["start"]) == ("2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z")
    assert nine["apps"] == {"firefox": 10, "XTerm": 5, "code": 4} and nine["active_minutes"] == 19
    assert ten["apps"] == {"code": 1} and ten["active_minutes"] == 1
    assert got["totals"]["frames"] == 10 + 5 + 3


def test_text_coverage_shows_minutes_whose_screen_changed_without_text_read(timeline):
    totals = _day(timeline)["totals"]
    assert (totals["screen_minutes"], totals["sound_minutes"]) == (16, 3)
    # seen: firefox's ten minutes, 09:10 (its lines were visible until the XTerm frame at :05), 09:20
    assert totals["seen_minutes"] == 12
    assert totals["unread_minutes"] == 4  # XTerm 09:11-09:14: frames kept, nothing read
    assert totals["heard_minutes"] == 3  # 09:30, 09:31 (09:32 had sound but no speech), 10:05
    assert totals["text_coverage"] == {"screen": round(12 / 20, 3), "speech": round(3 / 20, 3)}
    assert totals["ocr_failures"] == 1


def test_tokens_are_those_of_the_lines_seen_and_heard_that_began_in_the_range(timeline):
    totals = _day(timeline)["totals"]
    assert totals["tokens_seen"] == sum(get_tokenizer("o200k").count(text) for text in LINES)
    assert totals["tokens_heard"] == 5 + 7 + 3


def test_gaps_are_summed_by_reason_within_the_range(timeline):
    gaps = {g["reason"]: g for g in _day(timeline)["gaps"]}
    assert set(gaps) == {"recorder down", "paused", "ocr_behind", "excluded sound", "no screen", "capture_failed"}
    assert gaps["recorder down"]["seconds"] == 1800.0  # 08:00-09:00, counted from 08:30
    assert (gaps["paused"]["count"], gaps["paused"]["seconds"]) == (2, 900.0 + 300.0)
    assert (gaps["ocr_behind"]["seconds"], gaps["ocr_behind"]["frames_shed"]) == (30.0, 7)
    assert gaps["excluded sound"]["seconds"] == 60.0
    assert gaps["no screen"]["seconds"] == 120.0  # "no screen (why)" counts as "no screen"
    assert (gaps["capture_failed"]["open"], gaps["capture_failed"]["seconds"]) == (1, 0.0)
    assert [g["reason"] for g in _day(timeline)["gaps"]][:2] == ["recorder down", "paused"]  # longest first


def test_buckets_are_cut_at_the_readers_offset_from_utc(timeline):
    got = _day(timeline, utc_offset=30)  # a zone at UTC+00:30: its hours start at :30 UTC
    assert got["utc_offset_minutes"] == 30
    assert [(b["start"], b["active_minutes"]) for b in got["buckets"]] == [
        ("2026-11-30T08:30:00Z", 16),
        ("2026-11-30T09:30:00Z", 4),
    ]


def test_longer_ranges_come_in_days_weeks_or_months_so_the_answer_stays_small(timeline):
    month = timeline.activity(since=DAY - timedelta(days=29), until=DAY + timedelta(days=1))
    assert month["bucket"] == "day"
    assert [(b["start"], b["active_minutes"]) for b in month["buckets"]] == [("2026-11-30T00:00:00Z", 20)]
    assert timeline.activity(since=DAY - timedelta(days=300), until=DAY + timedelta(days=1))["bucket"] == "week"
    years = timeline.activity(since=datetime(2000, 1, 1))
    assert years["bucket"] == "month" and years["buckets"][0]["start"] == "2026-11-01T00:00:00Z"
    everything = timeline.activity()  # from the first activity to now
    assert everything["since"] == everything["first"] == "2026-11-30T09:00:05Z"
    assert everything["totals"]["active_minutes"] == 20


def test_the_answer_is_plain_json_with_every_documented_key(timeline):
    got = _day(timeline)
    assert json.loads(json.dumps(got)) == got
    assert set(got) == {
        "since",
        "until",
        "utc_offset_minutes",
        "bucket",
        "first",
        "last",
        "definitions",
        "totals",
        "apps",
        "other_apps",
        "buckets",
        "gaps",
        "ongoing_gap",
    }
    counts = {"active", "screen", "sound", "seen", "heard", "unread"}
    common = {f"{c}_minutes" for c in counts} | {"frames", "tokens_seen", "tokens_heard", "text_coverage"}
    assert set(got["totals"]) == common | {"ocr_failures"}
    assert set(got["buckets"][0]) == common | {"start", "apps", "other_apps_minutes"}
    assert set(got["gaps"][0]) == {"reason", "count", "seconds", "open", "frames_shed"}
    assert (got["since"], got["until"]) == ("2026-11-30T08:30:00Z", "2026-11-30T12:00:00Z")
    assert (got["first"], got["last"]) == ("2026-11-30T09:00:05Z", "2026-11-30T10:05:30Z")
    assert got["ongoing_gap"] is None  # no recorder runs


def test_a_range_without_activity_is_zeros_and_its_gaps(timeline):
    got = timeline.activity(since=DAY.replace(hour=9, minute=40), until=DAY.replace(hour=9, minute=50))
    assert got["totals"]["active_minutes"] == 0 and got["buckets"] == [] and got["apps"] == []
    assert got["totals"]["text_coverage"] == {"screen": None, "speech": None}
    assert got["first"] is None
    assert [(g["reason"], g["seconds"]) for g in got["gaps"]] == [("paused", 600.0)]


def test_apps_past_the_twelfth_are_counted_together(tmp_path):
    store = Store(Paths(tmp_path / "home").ensure().db)
    with store.write() as w:
        for i in range(14):  # app-00 in front for 3 minutes, the others for 2, app-13 for 1
            for j in range(3 if i == 0 else 1 if i == 13 else 2):
                show(w, AT + timedelta(minutes=5 * i + j), f"app-{i:02d}", "w", [f"line {i} {j}"])
    got = LocalTimeline(Paths(tmp_path / "home"), store).activity(
        since=DAY - timedelta(days=2), until=DAY + timedelta(days=1)
    )
    assert [a["app"] for a in got["apps"]] == [f"app-{i:02d}" for i in range(12)]  # most first, then by name
    assert got["apps"][0]["minutes"] == 3
    assert got["other_apps"] == {"apps": 2, "minutes": 2 + 1}
    assert got["buckets"][0]["other_apps_minutes"] == 3 and "app-12" not in got["buckets"][0]["apps"]


@pytest.mark.parametrize(
    ("since", "until", "offset", "message"),
    [
        (AT, AT, 0, "ends"),
        (AT, AT - timedelta(hours=1), 0, "before it starts"),
        (AT, None, 24 * 60, "utc_offset 1440"),
        (datetime(9000, 1, 1), None, 0, "in the future"),
    ],
)
def test_a_range_that_cannot_be_counted_is_one_line(timeline, since, until, offset, message):
    with pytest.raises(UsageError, match=message) as refused:
        timeline.activity(since=since, until=until, utc_offset=offset)
    assert "\n" not in str(refused.value)


def test_speech_only_from_a_file_is_active_and_heard(tmp_path):
    store = Store(Paths(tmp_path / "home").ensure().db)
    with store.write() as w:
        chunk = w.add_audio_chunk(AudioChunkRecord(AT, AT + timedelta(minutes=2), "file", "", 120.0))
        w.add_transcripts([Transcript(AT, AT + timedelta(seconds=150), "file", "test", "a long call", 4, chunk)])
    totals = LocalTimeline(Paths(tmp_path / "home"), store).activity(since=DAY)["totals"]
    assert (totals["active_minutes"], totals["sound_minutes"], totals["heard_minutes"]) == (3, 2, 3)
    assert (totals["screen_minutes"], totals["frames"], totals["text_coverage"]["speech"]) == (0, 0, 1.0)


def test_lines_without_frames_count_as_screen_minutes_of_their_app(tmp_path):
    store = Store(Paths(tmp_path / "home").ensure().db)  # a timeline imported from JSONL: lines, no frames
    with store.write() as w:
        for i in range(3):
            w.observe_lines(
                None, AT + timedelta(minutes=i), 1, "Slack", "#general", [OcrLine(f"message {i}", (0, 0, 9, 9))]
            )
        w.close_spans(AT + timedelta(minutes=3))
    got = LocalTimeline(Paths(tmp_path / "home"), store).activity(since=DAY)
    totals = got["totals"]
    assert (totals["active_minutes"], totals["screen_minutes"], totals["seen_minutes"], totals["frames"]) == (
        3,
        3,
        3,
        0,
    )
    assert got["apps"] == [{"app": "Slack", "minutes": 3}]
