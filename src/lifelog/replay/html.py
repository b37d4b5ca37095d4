"""``lifelog replay``: a range as one self-contained HTML page to scrub through.

The page (``replay.html``, ``replay.css``, ``replay.js`` beside this module) carries everything
inline: its style and script (allowed by their SHA-256 in a Content-Security-Policy that forbids
every network request), the frames as ``data:`` URIs, and one JSON object with the times, the app
and window of each frame, the text on screen at each (``scrub.visible``), what was heard and the
gaps. It is written as it is built, a frame at a time, so a long range costs the owner one screen
of memory, not the page.

Frames are scaled to at most ``MAX_WIDTH`` pixels wide and encoded as WebP at ``QUALITY`` (a
screen of dense text comes to about 140 kB); a screen identical to one already in the page is
not repeated. Which frames go in is ``scrub.choose``'s.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources

import numpy as np
from PIL import Image

from lifelog.errors import UsageError
from lifelog.models import FrameRecord, TextSpan
from lifelog.replay import scrub
from lifelog.timespec import utcnow

MAX_WIDTH = 1280  # pixels: wide enough to read a screen's text, a third of a 1080p screen's bytes
QUALITY = 70  # WebP quality: text stays legible, flat areas cost little
WEBP_METHOD = 2  # encoder effort, 0-6: 2 is within 4% of 3's size at a quarter of its time
MEDIA = "image/webp"


@dataclass
class Page:
    """A replay page under way: ``counts`` (known before the first byte), ``note`` (the sampling,
    "" when every frame is in), ``chunks`` (the page's bytes). Call ``close()`` when done."""

    counts: dict[str, int]
    note: str
    chunks: Iterator[bytes]
    close: Callable[[], None] = field(repr=False)


def open_page(store, images, since: datetime | None, until: datetime | None, every: float | None) -> Page:
    """The replay of [since, until) from ``store`` and its frame ``images`` (a FrameImages), read
    in one snapshot held until the page is closed; UsageError for a range with no frames or one
    too large (``scrub.choose``)."""
    stack = contextlib.ExitStack()
    try:
        reader = stack.enter_context(store.read())
        page = _start(reader, images, since, until, every)
    except BaseException:
        stack.close()
        raise
    counts, note, body = page

    def chunks() -> Generator[bytes, None, None]:
        try:
            yield from body
        finally:
            stack.close()

    gen = chunks()

    def close() -> None:
        gen.close()
        stack.close()

    return Page(counts, note, gen, close)


def _start(reader, images, since, until, every) -> tuple[dict[str, int], str, Iterator[bytes]]:
    scrub.check_range(since, until, utcnow())
    frames = reader.frames_between(since, until)
    if not frames:
        raise UsageError(f"No screens were recorded {_range(since, until)}: nothing to replay. Try a wider range.")
    plan = scrub.choose(frames, every)
    spans = reader.spans_between(since, until)
    heard = reader.heard_columns(since, until)
    gaps = scrub.gaps(reader.events_between(since, until), frames, since, until)
    data = {
        "since": _iso(since),
        "until": _iso(until or frames[-1].ts),
        "note": plan.note(),
        "heard": [[_iso(h.t), h.source, h.text] for h in heard],
        "gaps": [[_iso(a), _iso(b), label] for a, b, label in gaps],
        **_frames_and_text(plan.chosen, spans),
    }
    counts = {"frames": len(plan.chosen), "frames_in_range": plan.total, "every_s": int(plan.every)}
    counts.update(seen=len(data["texts"]), heard=len(heard), gaps=len(gaps))
    return counts, plan.note(), _body(reader, images, frames, plan.chosen, data)


def _range(since: datetime, until: datetime | None) -> str:
    if until:
        return f"between {since:%Y-%m-%d %H:%M:%S} and {until:%Y-%m-%d %H:%M:%S} UTC"
    return f"since {since:%Y-%m-%d %H:%M:%S} UTC"


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds") + "Z"


def _frames_and_text(chosen: list[FrameRecord], spans: list[TextSpan]) -> dict:
    """Each frame's time, monitor, app, window and the texts on screen (indexes into ``texts``:
    [app, window, text], each once)."""
    texts: dict[tuple[str, str, str], int] = {}
    frames = []
    for f, shown in zip(chosen, scrub.visible(spans, chosen)):
        ids = [texts.setdefault((spans[i].app, spans[i].window, spans[i].text), len(texts)) for i in shown]
        frames.append({"t": _iso(f.ts), "m": f.monitor, "a": f.app, "w": f.window, "s": ids})
    return {"frames": frames, "texts": [list(k) for k in texts]}


def _body(reader, images, frames, chosen, data: dict) -> Iterator[bytes]:
    """The page: head and data, then each frame's image as it is rebuilt, then the script."""
    head, tail = _template()
    seen: dict[bytes, int] = {}  # an image's digest -> its index in the page
    refs = []
    yield head
    for screen in scrub.screens(reader, images, frames, chosen):
        if screen is None:
            refs.append(-1)
            continue
        encoded = encode(screen)
        key = hashlib.sha256(encoded).digest()
        if key not in seen:
            seen[key] = len(seen)
            url = f"data:{MEDIA};base64,{base64.b64encode(encoded).decode('ascii')}"
            yield f'<script type="text/plain" class="shot" id="shot-{seen[key]}">{url}</script>\n'.encode()
        refs.append(seen[key])
    for frame, ref in zip(data["frames"], refs):
        frame["i"] = ref
    yield _data_script(data) + tail


def encode(screen: np.ndarray) -> bytes:
    """``screen`` at most ``MAX_WIDTH`` wide, as WebP."""
    image = Image.fromarray(screen)
    if image.width > MAX_WIDTH:
        size = (MAX_WIDTH, max(1, round(image.height * MAX_WIDTH / image.width)))
        image = image.resize(size, Image.Resampling.BICUBIC)  # a third of Lanczos's time, text as legible
    buf = io.BytesIO()
    image.save(buf, format="WEBP", quality=QUALITY, method=WEBP_METHOD)
    return buf.getvalue()


def _data_script(data: dict) -> bytes:
    """The data as JSON inside a script element that is never run (``<`` escaped, so no text
    read from a screen can close the element)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return f'<script type="application/json" id="replay-data">{text}</script>\n'.encode()


def _template() -> tuple[bytes, bytes]:
    """The page before the frames and after them, the style and script inline and allowed by
    their hashes alone."""
    folder = resources.files("lifelog.replay")
    page = (folder / "replay.html").read_text("utf-8")
    style = (folder / "replay.css").read_text("utf-8")
    script = (folder / "replay.js").read_text("utf-8")
    csp = (
        "default-src 'none'; img-src data:; "
        f"style-src '{_digest(style)}'; script-src '{_digest(script)}'; "
        "base-uri 'none'; form-action 'none'"
    )
    page = page.replace("__CSP__", csp).replace("__STYLE__", style).replace("__SCRIPT__", script)
    head, tail = page.split("__FRAMES__\n")
    return head.encode("utf-8"), tail.encode("utf-8")


def _digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
