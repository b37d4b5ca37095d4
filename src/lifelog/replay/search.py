"""Search results for people and scripts: text seen on screen and speech heard."""

from __future__ import annotations

from lifelog.errors import UsageError
from lifelog.models import SearchHit
from lifelog.replay.blocks import heard_from

MAX_HITS = 1000  # results of one search: the hits are held in memory, so their number is bounded


def find(store, query: str, *, since=None, until=None, app=None, limit: int = 20, speaker=None) -> list[SearchHit]:
    """The best ``limit`` hits; UsageError for an empty query or a limit outside 1..MAX_HITS
    (before any read)."""
    if not query.strip():
        raise UsageError("Empty search query: give some words to look for.")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_HITS:
        raise UsageError(f"Bad search limit {limit!r}: give 1 to {MAX_HITS}.")
    with store.read() as reader:
        return reader.search(query, since=since, until=until, app=app, limit=limit, speaker=speaker)


def hit_json(hit: SearchHit) -> dict:
    base = {"source": hit.kind, "score": round(hit.score, 4)}
    if hit.transcript is not None:
        t = hit.transcript
        return {
            **base,
            "start": t.t_start.isoformat() + "Z",
            "end": t.t_end.isoformat() + "Z",
            "audio": t.source,
            "engine": t.engine,
            **({"language": t.language} if t.language else {}),
            **({"speaker": t.speaker} if t.speaker else {}),
            "text": t.text,
        }
    s = hit.span
    assert s is not None  # a hit holds a span or a transcript
    return {
        **base,
        "start": s.t_start.isoformat() + "Z",
        "end": s.t_end.isoformat() + "Z",
        "monitor": s.monitor,
        "app": s.app,
        "window": s.window,
        "text": s.text,
    }


def hit_line(hit: dict) -> str:
    """One line for a person, from a hit as ``hit_json`` gives it (what the facade returns)."""
    when = hit["start"][:19].replace("T", " ") + "Z"
    if hit["source"] == "heard":
        return f"{when}  heard [{heard_from(hit['audio'], hit.get('speaker', ''))}]  {hit['text']}"
    where = " — ".join(p for p in (hit["app"], hit["window"]) if p) or "unknown window"
    return f"{when}  seen  [{where}]  {hit['text']}"
