"""``lifelog lessons reflect``: a model reviews a range and writes lessons (issue 22).

It reads the range's hour digests (``replay/digest.py``; made first if due), not the raw lines:
what was worked on, the errors, the fixes and outcomes with their times, a few hundred tokens an
hour. It is asked for attempts that went wrong, what fixed them, and what to do next time, as a
few short lines. A line at least half of whose terms are not in what it was given is dropped as
made up (``digest_model.grounded``); each lesson kept names the moments it came from: the
digest lines whose time it mentions, else the hours it read. Runs in the calling process (like
``ask``), through the facade, so the owner never waits on a model.
"""

from __future__ import annotations

import re
from datetime import datetime

from lifelog.api.timeline import Timeline
from lifelog.replay.digest_model import bullets, grounded
from lifelog.replay.llm import ChatClient, Endpoint
from lifelog.store import terms

MAX_HOURS = 48  # the newest hours of the range read (their digests, ~300 tokens each)
PROMPT = (
    "Below are digests of one person's computer work, hour by hour, with times. Find what went wrong "
    "(errors, failed attempts, corrections) and what fixed it or came of it. Write 1 to 5 lessons for "
    "next time, each one line starting with '- ', short and concrete, naming the tools, commands, "
    "numbers and the time (HH:MM) they come from, in the language of the material. If nothing went "
    "wrong, write nothing.\n\n"
)
_TIME = re.compile(r"\b([01]\d|2[0-3]):([0-5]\d)\b")


def reflect(timeline: Timeline, endpoint: Endpoint, *, since: datetime | None, until: datetime | None) -> dict:
    """Ask the model for lessons of [since, until); keep the grounded ones. Returns what was
    read and the lessons kept."""
    client = ChatClient(endpoint)  # a bad URL fails before any work
    timeline.digest(since=since)
    hours = timeline.digests(since=since, until=until, level="hour")[-MAX_HOURS:]
    if not hours:
        return {"hours": 0, "lessons": []}
    material = "\n\n".join(f"{d['start'][:16].replace('T', ' ')} UTC\n{d['text']}" for d in hours)
    answer = client.complete([{"role": "user", "content": PROMPT + material}])
    given = set(terms.terms(material))
    kept = []
    for bullet in bullets(answer):
        if grounded(bullet, given):
            text = bullet.removeprefix("- ")
            kept.append(timeline.add_lesson(text, sources={"moments": _moments(text, hours)}, model=endpoint.model))
    return {"hours": len(hours), "lessons": kept}


def _moments(lesson: str, hours: list[dict]) -> list[dict]:
    """The digest lines whose minute the lesson names; else the hours read (their starts)."""
    said = {f"{h}:{m}" for h, m in _TIME.findall(lesson)}
    found = [
        {"t": line["t"], "where": line.get("speaker") or f"{line.get('app', '')} · {line.get('window', '')}"}
        for d in hours
        for line in d["sources"].get("lines", [])
        if line["t"][11:16] in said
    ]
    return found or [{"t": d["start"], "where": "hour"} for d in hours]
