"""The replay page over a real DuckDB timeline with real stored screens (keyframes and changed
regions): the frames chosen and sampled, the text on screen at each frame, what was heard, the
gaps, the images (decoded back and compared with the screens as they looked), and a page that
carries everything inline under a policy that forbids the network."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from datetime import timedelta

import numpy as np
import pytest
from PIL import Image

from lifelog.errors import UsageError
from lifelog.models import FrameRecord, Transcript
from lifelog.replay import scrub
from lifelog.replay.html import MAX_WIDTH, open_page
from tests.replay.screens import T0, record

SINCE, UNTIL = T0 - timedelta(minutes=1), T0 + timedelta(hours=2)


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    rec = record(tmp_path_factory.mktemp("replay") / "home")
    said = Transcript(T0 + timedelta(seconds=25), T0 + timedelta(seconds=29), "mic", "test", "send the invoice today")
    with rec.store.write() as w:
        w.add_transcripts([said])
        w.add_event(T0 + timedelta(minutes=7), "gap", {"reason": "paused", "until": "2026-11-24T09:30:00"})
    return rec


def _page(rec, since=SINCE, until=UNTIL, every=None) -> tuple[dict, str]:
    page = open_page(rec.store, rec.images, since, until, every)
    try:
        return page.counts, b"".join(page.chunks).decode("utf-8")
    finally:
        page.close()


@pytest.fixture(scope="module")
def built(rec):
    return _page(rec)


def _data(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="replay-data">(.*?)</script>', html).group(1))


def _texts(data: dict, frame: dict) -> list[str]:
    return [data["texts"][i][2] for i in frame["s"]]


def _image(html: str, index: int) -> np.ndarray:
    url = re.search(rf'<script type="text/plain" class="shot" id="shot-{index}">(.*?)</script>', html).group(1)
    media, b64 = url.split(",", 1)
    assert media == "data:image/webp;base64"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB"))


def test_every_change_is_a_frame_with_the_text_on_screen_at_its_time(rec, built):
    counts, html = built
    data = _data(html)
    assert counts["frames"] == counts["frames_in_range"] == len(rec.screens) == len(data["frames"])
    first, second = data["frames"][:2]
    assert (first["a"], first["w"]) == ("firefox", "Invoices")
    assert _texts(data, first) == ["Invoice 4821", "Total due: 1,250.00 EUR"]
    assert _texts(data, second) == ["Invoice 4821", "Total due: 1,250.00 EUR", "Paid on 2 December"]
    last = data["frames"][-1]
    assert (last["a"], last["w"]) == ("gedit", "notes.md")
    assert _texts(data, last) == ["Meeting notes", "Ship the parser on Thursday", "Ask Dana about the budget"]
    assert not any("Invoice" in t for t in _texts(data, data["frames"][3]))  # the xterm hid the browser


def test_the_images_are_the_screens_as_they_looked_scaled(rec, built):
    _, html = built
    data = _data(html)
    for frame, ts in zip(data["frames"], sorted(rec.screens)):
        got = _image(html, frame["i"])
        want = np.asarray(Image.fromarray(rec.screens[ts]).resize((got.shape[1], got.shape[0])))
        assert got.shape[1] == MAX_WIDTH
        assert np.abs(got.astype(int) - want.astype(int)).mean() < 4  # lossy, but the same screen


def test_heard_and_gaps_are_in_the_page(built):
    counts, html = built
    data = _data(html)
    assert [h[1:] for h in data["heard"]] == [["mic", "send the invoice today"]]
    labels = [g[2] for g in data["gaps"]]
    assert any("paused" in label for label in labels)
    assert any("no screen change 09:06:00–10:10:00" in label for label in labels)  # the hour away
    assert counts["heard"] == 1 and counts["gaps"] == len(labels)


def test_the_page_is_self_contained_and_forbids_the_network(built):
    _, html = built
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html).group(1)
    assert "default-src 'none'" in csp and "img-src data:" in csp and "unsafe" not in csp
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    script = re.findall(r"<script>(.*?)</script>", html, re.S)[-1]
    for body in (style, script):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp  # only this very script and style may run
    markup = re.sub(r"<(script|style)\b[^>]*>.*?</\1>", "", html, flags=re.S)
    assert not re.search(r"\s(src|href|action|srcset)\s*=", markup)  # nothing fetched, no link to follow
    assert "http://" not in html and "https://" not in html and "//" not in csp


def test_same_screen_twice_is_one_image(rec, tmp_path):
    counts, html = _page(rec, T0 + timedelta(minutes=70), T0 + timedelta(minutes=80), every=None)
    assert counts["frames"] == 2 and html.count('class="shot"') == 2
    assert [f["i"] for f in _data(html)["frames"]] == [0, 1]


def test_text_that_looks_like_markup_stays_text_and_a_frame_without_its_image_says_so(pipeline_home):
    from lifelog.store.images import FrameImages
    from tests.support.writes import show

    paths, store = pipeline_home
    evil = ["</script><img src=x onerror=alert(1)>", "<!-- <script>", "line\u2028two"]
    with store.write() as w:
        show(w, T0, "</script>", "<b>title</b>", evil)  # stored without an image
        w.close_spans(T0 + timedelta(minutes=1))
    page = open_page(store, FrameImages(paths.frames), T0 - timedelta(minutes=1), T0 + timedelta(minutes=2), None)
    html = b"".join(page.chunks).decode("utf-8")
    page.close()
    data = _data(html)
    assert _texts(data, data["frames"][0]) == evil and data["frames"][0]["a"] == "</script>"
    assert data["frames"][0]["i"] == -1 and 'class="shot"' not in html
    assert html.count("</script>") == 2  # the data's and the page script's own: no text closed an element


def test_a_range_without_screens_is_one_clear_error(rec):
    with pytest.raises(UsageError, match="No screens were recorded between .* nothing to replay"):
        _page(rec, T0 + timedelta(minutes=20), T0 + timedelta(minutes=30))


@pytest.mark.parametrize(
    ("since", "until", "says"),
    [
        (None, UNTIL, "A replay needs a start: give --since"),
        (UNTIL - timedelta(days=8), UNTIL, "A replay covers at most 7 days"),
    ],
)
def test_a_range_without_a_start_or_over_a_week_is_refused_before_reading(rec, since, until, says):
    with pytest.raises(UsageError, match=says):
        _page(rec, since, until)


def _frames(n: int, step_s: float, monitors=(1,)) -> list[FrameRecord]:
    return [
        FrameRecord(T0 + timedelta(seconds=i * step_s), m, 1920, 1080, "app", "w", "", (0, 0, 1, 1), False, id=i)
        for i in range(n)
        for m in monitors
    ]


def test_a_long_range_is_sampled_and_says_so():
    frames = _frames(scrub.FULL_FRAMES + 1, 0.5, monitors=(1, 2))  # 5 minutes of two busy monitors
    plan = scrub.choose(frames, None)
    assert plan.every == scrub.AUTO_EVERY_S and plan.sampled
    assert len(plan.chosen) == 2 * 31  # one per 10 s per monitor over 300.5 s
    assert all(f.id % 20 == 19 or f.id == scrub.FULL_FRAMES for f in plan.chosen)  # each stretch's last
    assert plan.note().startswith(f"Sampled: 62 of {len(frames):,} frames, at most one per 10 s")


def test_a_short_range_keeps_every_change_and_every_samples_it():
    frames = _frames(100, 3.0)
    assert scrub.choose(frames, None).chosen == frames and scrub.choose(frames, None).note() == ""
    assert len(scrub.choose(frames, 60).chosen) == 5  # 297 s in minutes


def test_too_many_frames_is_refused_with_a_sampling_that_fits():
    frames = _frames(scrub.MAX_FRAMES + 1, 10.0)
    with pytest.raises(
        UsageError, match=r"1,201 frames \(at most one per 10 s\); the most is 1,200\. Sample with --every 15s"
    ):
        scrub.choose(frames, None)
    assert len(scrub.choose(frames, 15).chosen) <= scrub.MAX_FRAMES
