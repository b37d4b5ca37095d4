"""Search results for people and scripts."""

from __future__ import annotations

from lifelog.models import SearchHit


def find(store, query: str, *, since=None, until=None, app=None, limit: int = 20) -> list[SearchHit]:
    with store.read() as reader:
        return reader.search(query, since=since, until=until, app=app, limit=limit)


def hit_json(hit: SearchHit) -> dict:
    s = hit.span
    return {
        "start": s.t_start.isoformat() + "Z", "end": s.t_end.isoformat() + "Z", "source": "seen",
        "monitor": s.monitor, "app": s.app, "window": s.window, "text": s.text, "score": round(hit.score, 4),
    }


def hit_line(hit: SearchHit) -> str:
    s = hit.span
    where = " — ".join(p for p in (s.app, s.window) if p) or "unknown window"
    return f"{s.t_start:%Y-%m-%d %H:%M:%S}Z  seen  [{where}]  {s.text}"
