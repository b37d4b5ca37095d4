"""The ``messages`` format: a context window as an OpenAI chat request body,
``{"model": ..., "messages": [system, user]}``, optionally with keyframe images.

The user message's content is a list of parts: the Markdown window (``context.build_context``)
cut at block headers, and before each cut a caption (``screen 2 at 09:14:05 UTC``) and the
screen as it looked then (``keyframes.py``), so text and images stay in time order.

Counting: the tokens reported are the tokenizer's count of every text part (system message,
window pieces, captions), plus each image at the target provider's published rate
(``targets.image_tokens``), plus the chat framing. The framing follows OpenAI's published rule for
chat models, 3 tokens per message plus its role, and 3 priming the reply; lifelog adds 1 per
content part for the joins between parts, which OpenAI does not publish: an approximation that
errs high. The total is never above the budget.

Images take at most half the budget (``IMAGE_SHARE``), so a small budget keeps the text, which
holds far more per token; fewer images are sent when N do not fit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from lifelog.errors import BudgetError, UsageError
from lifelog.replay.context import FORMATS as TEXT_FORMATS
from lifelog.replay.context import ContextWindow, build_context
from lifelog.tokenize_media.targets import Target, image_tokens, resolve
from lifelog.tokenize_media.tokenizers import get_tokenizer

if TYPE_CHECKING:  # numpy and Pillow load only when images are asked for
    from lifelog.replay.keyframes import Keyframe

FORMAT = "messages"
FORMATS = (*TEXT_FORMATS, FORMAT)
SYSTEM = (
    "The user's message holds lifelog's record of their computer activity, in time order, times in UTC: "
    "text seen on screen (by app and window), speech heard, and screenshots of the screen at moments "
    "across the range, each after a caption giving its time."
)
TOKENS_PER_MESSAGE = 3  # OpenAI: <|start|>{role}<|message|>{content}<|end|>, role counted apart
REPLY_PRIMING = 3  # OpenAI: <|start|>assistant<|message|>
TOKENS_PER_PART = 1  # lifelog's margin for the join between content parts (not published)
IMAGE_SHARE = 2  # images take at most 1/IMAGE_SHARE of the budget
MAX_IMAGES = 100  # Anthropic's limit per request; OpenAI's is higher
DETAIL = "high"


@dataclass
class MessagesWindow:
    text: str  # the request body, JSON
    tokens: int
    budget: int
    window: ContextWindow  # the Markdown window inside it
    images: int


def check_request(fmt: str, images: int | None) -> None:
    """UsageError for a format lifelog does not know, or ``--images`` with one that has none."""
    if fmt not in FORMATS:
        raise UsageError(f"Unknown format {fmt!r}. Valid: {', '.join(FORMATS)}.")
    if images is not None and fmt != FORMAT:
        raise UsageError("--images needs --format messages (markdown, json and xml carry text only).")
    if images is not None and not 0 <= images <= MAX_IMAGES:
        raise UsageError(f"--images {images}: give 0 to {MAX_IMAGES}.")


def image_target(model: str | None) -> Target:
    """The target whose per-image rate counts the images; UsageError when there is none."""
    if not model:
        raise UsageError(
            "--images needs a model to count images for: add --model (an OpenAI, Anthropic or "
            "Google model, e.g. --model gpt-4o)."
        )
    target = resolve(model)
    image_tokens(target, 1, 1)  # a model without an image rate fails here, saying so
    return target


def build_messages(
    reader,
    images,
    *,
    since: datetime | None,
    until: datetime | None,
    budget: int,
    tokenizer: str = "o200k",
    model: str | None = None,
    n_images: int = 0,
    **window_kw,
) -> MessagesWindow:
    """The request body for ``[since, until)`` under ``budget`` tokens, with up to ``n_images``
    screens rebuilt from ``images`` (a store FrameImages). ``window_kw`` goes to build_context."""
    target = image_target(model) if n_images else None
    tok = get_tokenizer(tokenizer)
    fixed = 2 * TOKENS_PER_MESSAGE + REPLY_PRIMING + tok.count("system") + tok.count("user") + tok.count(SYSTEM)
    shots = _shots(reader, images, target, n_images, since, until, (budget - fixed) // IMAGE_SHARE, tok)
    reserved = fixed + sum(s.tokens + tok.count(_caption(i, s)) + 2 * TOKENS_PER_PART for i, s in enumerate(shots, 1))
    text_budget = budget - reserved - TOKENS_PER_PART
    for _ in range(8):  # the cuts between parts can change the text's count by a token or so
        window = _window(reader, since, until, text_budget, tok.id, budget, window_kw)
        parts = _parts(window.text, shots)
        total = fixed + sum(tok.count(p["text"]) if n is None else n for p, n in parts) + TOKENS_PER_PART * len(parts)
        if total <= budget:
            return MessagesWindow(_body(model, [p for p, _ in parts]), total, budget, window, len(shots))
        text_budget -= total - budget
    raise BudgetError(f"--budget {budget:,} is too small for a messages window. Raise --budget.")


def _shots(reader, images, target, n, since, until, cap: int, tok) -> list[Keyframe]:
    """The most keyframes, up to ``n``, whose images and captions fit in ``cap`` tokens."""
    if not n or cap < 1:
        return []
    from lifelog.replay import keyframes

    frames = reader.frames_between(since, until)
    for k in range(n, 0, -1):
        chosen = keyframes.slots(frames, k)
        if sum(keyframes.cost(target, c[0]) for c in chosen) > cap:
            continue
        shots = keyframes.render(reader, images, target, chosen)
        while shots and _shot_cost(shots, tok) > cap:  # a fallback frame of another size
            shots.pop()
        return shots
    return []


def _shot_cost(shots, tok) -> int:
    return sum(s.tokens + tok.count(_caption(i, s)) + 2 * TOKENS_PER_PART for i, s in enumerate(shots, 1))


def _window(reader, since, until, text_budget, tokenizer, budget, window_kw) -> ContextWindow:
    if text_budget < 1:
        raise BudgetError(f"--budget {budget:,} leaves no room for text beside the chat framing. Raise --budget.")
    try:
        return build_context(
            reader, since=since, until=until, budget=text_budget, fmt="markdown", tokenizer=tokenizer, **window_kw
        )
    except BudgetError:
        raise BudgetError(
            f"--budget {budget:,} is below the smallest possible messages window "
            f"({text_budget:,} tokens were left for the text). Raise --budget."
        ) from None


def _caption(i: int, shot: Keyframe) -> str:
    screen = f" · monitor {shot.monitor}" if shot.monitor > 1 else ""
    return f"screen {i} at {shot.ts:%H:%M:%S} UTC{screen}"


def _parts(text: str, shots: list[Keyframe]) -> list[tuple[dict, int | None]]:
    """Content parts, each with its image's tokens (None for text): the window in pieces, each
    image (after its caption) before the first block that follows it."""
    cuts = cut_points(text, [s.ts for s in shots])
    parts: list[tuple[dict, int | None]] = []
    start = 0
    for i, (cut, shot) in enumerate(zip(cuts, shots), 1):
        if text[start:cut]:
            parts.append(({"type": "text", "text": text[start:cut]}, None))
        parts.append(({"type": "text", "text": _caption(i, shot)}, None))
        parts.append(({"type": "image_url", "image_url": {"url": shot.data_url(), "detail": DETAIL}}, shot.tokens))
        start = cut
    if text[start:] or not parts:
        parts.append(({"type": "text", "text": text[start:]}, None))
    return parts


def _body(model: str | None, parts: list[dict]) -> str:
    doc: dict = {"model": model} if model else {}
    doc["messages"] = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": parts}]
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


# -- where images go in the Markdown -----------------------------------------------------------
_DAY = re.compile(r"## (\d{4}-\d\d-\d\d)\n")
_BLOCK = re.compile(r"### (?:(\d{4}-\d\d-\d\d) · outline of the day|(\d\d:\d\d(?::\d\d)?)(?:–\d\d:\d\d)? · )")


def cut_points(text: str, times: list[datetime]) -> list[int]:
    """For each time (ascending), the offset in the Markdown ``text`` of the first block that
    starts at or after it (its day header when it opens a day), else the end. Headers are
    recognised only at the start of a paragraph, in time order, so screen text that looks
    like one is passed over."""
    heads = _headers(text)
    cuts, h = [], 0
    for t in times:
        t = t.replace(microsecond=0)
        while h < len(heads) and heads[h][1] < t:
            h += 1
        cuts.append(heads[h][0] if h < len(heads) else len(text))
    return cuts


def _headers(text: str) -> list[tuple[int, datetime]]:
    """(offset, start time) of each block header, where a block opening a day starts at its
    day header."""
    heads: list[tuple[int, datetime]] = []
    day, day_at, last = None, None, datetime.min
    for m in re.finditer(r"(?:^|\n\n)(?=#)", text):
        at = m.end()
        if d := _DAY.match(text, at):
            day, day_at = datetime.strptime(d.group(1), "%Y-%m-%d"), at
            continue
        b = _BLOCK.match(text, at)
        if b is None or day is None:
            continue
        if b.group(1):
            ts = datetime.strptime(b.group(1), "%Y-%m-%d")
        else:
            hms = [int(x) for x in b.group(2).split(":")]
            ts = day + timedelta(hours=hms[0], minutes=hms[1], seconds=hms[2] if len(hms) > 2 else 0)
        if ts < last:
            continue
        heads.append((day_at if day_at is not None else at, ts))
        day_at, last = None, ts
    return heads
