"""Render blocks as Markdown or JSON. Pure functions of their input: same blocks, same bytes.

Times are UTC, so output does not depend on the machine's time zone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

from lifelog.replay.blocks import HEARD_FROM, SPEAKER_SEP, Block, heard_from

TITLE = "# Computer activity (lifelog; times UTC)"


@dataclass(frozen=True)
class Omission:
    lines: int
    tokens: int
    start: datetime
    end: datetime
    outline: str = ""  # "hour", "day" or "week" when the omitted stretch is shown as an outline
    digests: bool = False  # some of the outline's blocks are digests
    focus: str = ""  # the query whose best matches are shown in full (context --query)
    stretches: int = 0  # how many stretches around them
    weak: Weak | None = None  # the best of them holds few of the words asked about

    def describe(self) -> str:
        end = f"{self.end:%H:%M:%S}" if self.end.date() == self.start.date() else f"{self.end:%Y-%m-%d %H:%M:%S}"
        shown = {per: f"; shown below as an outline per {per}" for per in ("hour", "day", "week")}
        if self.digests:
            shown = {per: f"; shown below per {per}: digests of what happened, else an outline" for per in shown}
        picked = ""
        if self.focus:
            picked = (
                f"shown in full: {self.stretches:,} stretch{'' if self.stretches == 1 else 'es'} "
                f"around the best matches for {json.dumps(self.focus, ensure_ascii=False)}; "
            )
        said = (
            f"[… {picked}left out to fit the token budget: {self.lines:,} lines, "
            f"~{self.tokens:,} tokens, {self.start:%Y-%m-%d %H:%M:%S}–{end} UTC{shown.get(self.outline, '')}]"
        )
        return said + ("\n" + self.weak.describe() if self.weak else "")


@dataclass(frozen=True)
class Weak:
    """Weak evidence for a question: no block shown in full holds more than ``best`` of the
    ``asked`` words it asks about; ``missing``: those no block shown holds at all."""

    best: int
    asked: int
    missing: tuple[str, ...]

    def describe(self) -> str:
        missing = f"; nowhere in it: {', '.join(self.missing)}" if self.missing else ""
        return (
            f"[weak evidence: no moment shown holds more than {self.best} of the {self.asked} words asked "
            f"about{missing}. The answer may not be in this range.]"
        )

    def as_dict(self) -> dict:
        return {"best": self.best, "asked": self.asked, "missing": list(self.missing)}


def header(block: Block) -> str:
    if block.kind in ("outline", "digest"):
        if block.source == "week":
            return f"### week of {block.ts:%Y-%m-%d} · {block.kind} of the week"
        if block.source == "day":
            return f"### {block.ts:%Y-%m-%d} · {block.kind} of the day"
        return f"### {block.ts:%H:%M}–{block.ts + timedelta(hours=1):%H:%M} · {block.kind}"
    if block.kind == "event":
        return f"### {block.ts:%H:%M:%S} · {block.lines[0]}"
    if block.kind == "asked":
        return f"### {block.ts:%H:%M:%S} · asked {block.source or 'a model'}"
    if block.kind == "heard":
        return f"### {block.ts:%H:%M:%S} · heard · {heard_from(block.source)}"
    where = " — ".join(p for p in (block.app, block.window) if p) or "unknown window"
    screen = f" · screen {block.monitor}" if block.monitor > 1 else ""
    return f"### {block.ts:%H:%M:%S} · seen · {where}{screen}"


def markdown(blocks: list[Block], omitted: Omission | None) -> str:
    """A block seen in the same window as the block just above it (same day) says only its time
    and "same window": the app and title again cost ~8 tokens a block, a fifth of a small
    window made of chat messages."""
    out = [TITLE]
    if omitted:
        out.append(omitted.describe())
    day = None
    above: Block | None = None
    for b in blocks:
        if b.ts.date() != day:
            day = b.ts.date()
            out.append(f"## {day:%Y-%m-%d}")
            above = None
        same = b.kind == "seen" and above is not None and above.kind == "seen" and above.key == b.key
        head = f"### {b.ts:%H:%M:%S} · same window" if same else header(b)
        out.append(head if b.kind == "event" else head + "\n" + "\n".join(b.lines))
        above = b
    if not blocks and not omitted:
        out.append("(nothing recorded in this range)")
    return "\n\n".join(out) + "\n"


def block_json(b: Block) -> dict:
    if b.kind == "outline":
        return {"time": b.ts.isoformat() + "Z", "kind": "outline", "per": b.source, "summary": b.lines[0]}
    if b.kind == "digest":
        return {"time": b.ts.isoformat() + "Z", "kind": "digest", "per": b.source, "lines": b.lines}
    if b.kind == "event":
        return {"time": b.ts.isoformat() + "Z", "kind": "event", "event": b.lines[0]}
    if b.kind in ("heard", "asked"):
        where, _, speaker = b.source.partition(SPEAKER_SEP)
        told = {"speaker": speaker} if speaker else {}
        return {"time": b.ts.isoformat() + "Z", "kind": "heard", "source": where, **told, "lines": b.lines}
    return {
        "time": b.ts.isoformat() + "Z",
        "kind": b.kind,
        "monitor": b.monitor,
        "app": b.app,
        "window": b.window,
        "lines": b.lines,
    }


def as_json(blocks: list[Block], omitted: Omission | None, meta: dict) -> str:
    doc = dict(meta)
    doc["omitted"] = (
        None
        if omitted is None
        else {
            "lines": omitted.lines,
            "tokens": omitted.tokens,
            "start": omitted.start.isoformat() + "Z",
            "end": omitted.end.isoformat() + "Z",
            "outline": omitted.outline or None,
            **({"digests": True} if omitted.digests else {}),
            **({"query": omitted.focus, "stretches": omitted.stretches} if omitted.focus else {}),
            **({"weak": omitted.weak.as_dict()} if omitted.weak else {}),
        }
    )
    doc["blocks"] = [block_json(b) for b in blocks]
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def xml(blocks: list[Block], omitted: Omission | None) -> str:
    """One element per block (``seen``, ``heard``, ``event``) with its time, app, window and
    source as attributes and its lines as text; element order is time order."""
    out = ['<activity source="lifelog" times="UTC">']
    if omitted:
        out.append(
            f'<omitted lines="{omitted.lines}" tokens="{omitted.tokens}" '
            f'start="{omitted.start.isoformat()}Z" end="{omitted.end.isoformat()}Z" '
            f'outline="{omitted.outline or "none"}"'
            + (' digests="yes"' if omitted.digests else "")
            + (f' query={quoteattr(omitted.focus)} stretches="{omitted.stretches}"' if omitted.focus else "")
            + (
                f' weak_best="{omitted.weak.best}" weak_of="{omitted.weak.asked}"'
                f" weak_missing={quoteattr(' '.join(omitted.weak.missing))}"
                if omitted.weak
                else ""
            )
            + "/>"
        )
    for b in blocks:
        when = f'time="{b.ts.isoformat()}Z"'
        if b.kind == "outline":
            out.append(f'<outline {when} per="{b.source}">{escape(b.lines[0])}</outline>')
        elif b.kind == "digest":
            out.append(f'<digest {when} per="{b.source}">\n' + escape("\n".join(b.lines)) + "\n</digest>")
        elif b.kind == "event":
            out.append(f"<event {when}>{escape(b.lines[0])}</event>")
        elif b.kind in ("heard", "asked"):
            where, _, speaker = b.source.partition(SPEAKER_SEP)
            source = quoteattr(HEARD_FROM.get(where, where)) + (f" speaker={quoteattr(speaker)}" if speaker else "")
            out.append(f"<{b.kind} {when} source={source}>\n" + escape("\n".join(b.lines)) + f"\n</{b.kind}>")
        else:
            attrs = f'{when} app={quoteattr(b.app)} window={quoteattr(b.window)} monitor="{b.monitor}"'
            out.append(f"<seen {attrs}>\n" + escape("\n".join(b.lines)) + "\n</seen>")
    out.append("</activity>")
    return "\n".join(out) + "\n"
