"""The messages format over a real DuckDB timeline with real stored screens: an OpenAI chat
request whose screenshots are the screens as they looked (decoded back and compared pixel for
pixel), spread over the active time, in time order among the text, counted at each provider's
image rate, never over the budget, the same bytes every time."""

from __future__ import annotations

import base64
import io
import json
from datetime import datetime, timedelta

import numpy as np
import pytest
from PIL import Image

from lifelog.config import Settings
from lifelog.errors import BudgetError, UsageError
from lifelog.replay.context import build_context
from lifelog.replay.messages import (
    REPLY_PRIMING,
    SYSTEM,
    TOKENS_PER_MESSAGE,
    TOKENS_PER_PART,
    build_messages,
    check_request,
    cut_points,
)
from lifelog.replay.render import TITLE
from lifelog.tokenize_media.targets import choose, image_tokens, resolve
from lifelog.tokenize_media.tokenizers import get_tokenizer
from tests.replay.screens import BIG_CHANGE, T0, record

SINCE, UNTIL = T0 - timedelta(minutes=1), T0 + timedelta(hours=2)


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    return record(tmp_path_factory.mktemp("messages") / "home")


def _build(rec, model="gpt-4o", n=3, budget=100_000, since=SINCE, until=UNTIL, **kw):
    tokenizer = choose(Settings(), model=model).tokenizer if model else "o200k"
    with rec.store.read() as reader:
        return build_messages(
            reader,
            rec.images,
            since=since,
            until=until,
            budget=budget,
            tokenizer=tokenizer,
            model=model,
            n_images=n,
            **kw,
        )


def _content(m) -> list[dict]:
    doc = json.loads(m.text)
    system, user = doc["messages"]
    assert system == {"role": "system", "content": SYSTEM} and user["role"] == "user"
    return user["content"]


def _decoded(part) -> np.ndarray:
    url = part["image_url"]["url"]
    assert url.startswith("data:image/png;base64,") and part["image_url"]["detail"] == "high"
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("RGB"))


def _recount(m, model) -> int:
    """The documented count, from the request alone: text parts by the tokenizer, images by
    the provider's rate for their decoded size, plus the chat framing."""
    target = resolve(model)
    tok = get_tokenizer(target.tokenizer)
    parts = _content(m)
    n = tok.count(SYSTEM) + tok.count("system") + tok.count("user") + 2 * TOKENS_PER_MESSAGE + REPLY_PRIMING
    for p in parts:
        if p["type"] == "text":
            n += tok.count(p["text"])
        else:
            h, w = _decoded(p).shape[:2]
            n += image_tokens(target, w, h)
    return n + TOKENS_PER_PART * len(parts)


def test_screens_are_the_screens_as_they_looked_spread_over_the_active_time(rec):
    m = _build(rec, n=3)
    parts = _content(m)
    shots = [p for p in parts if p["type"] == "image_url"]
    captions = [p["text"] for p, q in zip(parts, parts[1:]) if q["type"] == "image_url"]
    assert m.images == len(shots) == 3
    # an hour away takes no share: one image before the xterm, the biggest xterm change, the editor
    big = T0 + timedelta(minutes=5, seconds=2 + 2 * BIG_CHANGE)
    times = [T0, big, T0 + timedelta(minutes=70)]
    assert captions == [f"screen {i} at {t:%H:%M:%S} UTC" for i, t in enumerate(times, 1)]
    for part, t in zip(shots, times):
        pixels = _decoded(part)
        assert pixels.shape == (768, 1365, 3)  # what gpt-4o reads a 1920x1080 screen at
        expected = Image.fromarray(rec.screens[t]).resize((1365, 768), Image.Resampling.LANCZOS)
        assert np.array_equal(pixels, np.asarray(expected))  # rebuilt from keyframe + regions, then scaled


def test_images_sit_in_time_order_among_the_text(rec):
    m = _build(rec, n=3)
    parts = _content(m)
    texts = [p["text"] if p["type"] == "text" else "[image]" for p in parts]
    joined = "".join(t for t in texts if t != "[image]" and not t.startswith("screen "))
    assert joined == m.window.text and joined.startswith(TITLE)  # cut, nothing lost or added
    flat = "\n".join(texts)
    assert flat.index("screen 1 at 09:00:00") < flat.index("Invoice 4821")  # the screen, then its text
    # the xterm's minute is one block (09:05:00): its screen follows it, before the next block
    assert (
        flat.index("request 29 served")
        < flat.index(f"screen 2 at 09:05:{2 + 2 * BIG_CHANGE}")
        < flat.index("screen 3 at 10:10:00")
        < flat.index("### 10:10:00 · seen · gedit")
        < flat.index("Meeting notes")
    )


@pytest.mark.parametrize("model", ["gpt-4o", "claude-sonnet-4-5", "gemini-2.5-pro", "gpt-4.1-mini"])
@pytest.mark.parametrize("budget", [300, 900, 2500, 6000, 40_000])
@pytest.mark.parametrize("until", [T0 + timedelta(minutes=6), UNTIL])
def test_count_is_the_documented_count_and_never_over_the_budget(rec, model, budget, until):
    m = _build(rec, model=model, n=4, budget=budget, until=until)
    assert m.tokens == _recount(m, model) <= budget
    images = sum(1 for p in _content(m) if p["type"] == "image_url")
    assert m.images == images
    if budget >= 40_000:
        assert images == (4 if until == UNTIL else 3)  # 3: the range before 09:06 has 3 slots' worth of frames
        assert m.window.omitted is None


def test_fewer_images_when_they_do_not_fit_and_text_keeps_half(rec):
    one_image = image_tokens(resolve("gpt-4o"), 1365, 768)  # 1,105
    m = _build(rec, n=8, budget=3 * one_image)
    assert m.images == 1 and m.tokens <= 3 * one_image
    assert m.window.budget >= 3 * one_image // 2 - 100  # the text may take at least half (less the framing)
    assert m.window.omitted is None  # and the whole range fits in it


def test_same_range_gives_the_same_bytes(rec):
    assert _build(rec, n=3).text == _build(rec, n=3).text


def test_without_images_is_the_window_in_chat_form(rec):
    m = _build(rec, model=None, n=0, budget=5000)
    parts = _content(m)
    assert len(parts) == 1 and parts[0]["type"] == "text"
    assert parts[0]["text"] == m.window.text and "model" not in json.loads(m.text)
    with rec.store.read() as reader:
        plain = build_context(reader, since=SINCE, until=UNTIL, budget=m.window.budget, tokenizer="o200k")
    assert plain.text == m.window.text
    assert json.loads(_build(rec, model="llama3.1", n=0).text)["model"] == "llama3.1"


def test_frames_without_images_are_passed_over(rec, tmp_path):
    """A range whose stored images are gone gives no screenshots, not an error."""
    from lifelog.store.images import FrameImages

    with rec.store.read() as reader:
        m = build_messages(
            reader,
            FrameImages(tmp_path / "nothing"),
            since=SINCE,
            until=UNTIL,
            budget=20_000,
            model="gpt-4o",
            n_images=3,
        )
    assert m.images == 0 and "Invoice 4821" in m.text


@pytest.mark.parametrize(
    "fmt, images, model, says",
    [
        ("markdown", 2, "gpt-4o", "--images needs --format messages"),
        ("xml", 0, "gpt-4o", "--images needs --format messages"),
        ("yaml", None, "gpt-4o", "Unknown format 'yaml'. Valid: markdown, json, xml, messages."),
        ("messages", 101, "gpt-4o", "--images 101: give 0 to 100"),
    ],
)
def test_bad_requests(fmt, images, model, says):
    with pytest.raises(UsageError, match=says.replace(".", r"\.")):
        check_request(fmt, images)


@pytest.mark.parametrize(
    "model, says",
    [
        (None, "--images needs a model to count images for"),
        ("llama3.1", "lifelog has no image rate for 'llama3.1'"),
        ("qwen3", "lifelog has no image rate for 'qwen3'"),
    ],
)
def test_images_need_a_model_with_an_image_rate(rec, model, says):
    with pytest.raises(UsageError, match=says):
        _build(rec, model=model, n=2)


def test_a_budget_below_the_framing_is_one_clear_error(rec):
    with pytest.raises(BudgetError, match="Raise --budget"):
        _build(rec, n=2, budget=80)


def test_cut_points_follow_headers_and_pass_over_lookalike_text():
    text = (
        f"{TITLE}\n\n## 2026-11-24\n\n### 09:00:00 · seen · a\nx\n### 09:30:00 · seen · fake\n\n"
        "### 09:10–10:00 · outline\n\n### 10:00:05 · heard · microphone\nhi\n\n"
        "### 09:59:00 · seen · out of order\n\n## 2026-11-25\n\n### 08:00:00 · seen · b\ny\n"
    )
    at = lambda h, m, s=0, d=24: datetime(2026, 11, d, h, m, s)  # noqa: E731
    cuts = cut_points(
        text, [at(8, 0), at(9, 0, 0), at(9, 5), at(9, 50), at(10, 0, 5), at(23, 0), at(8, 0, 0, 25), at(9, 0, 0, 25)]
    )
    heads = [text.index(h) for h in ("## 2026-11-24", "### 09:10–", "### 10:00:05", "## 2026-11-25")]
    assert cuts == [heads[0], heads[0], heads[1], heads[2], heads[2], heads[3], heads[3], len(text)]
