"""Where the time went: the facade's ``activity`` answer (``lifelog timeline``, the MCP tool),
as plain JSON built from the counts ``store/activity.py`` makes in SQL.

The shape (every key always present; times ISO-8601 UTC with ``Z``; shares 0-1 to three
places, null where there is nothing to share)::

    {"since", "until"           the range counted (the asked bounds; else the first activity, now)
     "utc_offset_minutes"       where buckets are cut: minutes east of UTC
     "bucket"                   "hour" (ranges up to 2 days), "day" (92), "week" (2 years), "month"
     "first", "last"            the first and last active instants, null when none
     "definitions"              one sentence per measure, for a reader without this docstring
     "totals": {"active_minutes", "screen_minutes", "sound_minutes", "seen_minutes",
                "heard_minutes", "unread_minutes", "frames", "ocr_failures",
                "tokens_seen", "tokens_heard", "text_coverage": {"screen", "speech"}}
     "apps": [{"app", "minutes"}, ...]          the 12 apps with most active minutes, most first
     "other_apps": {"apps", "minutes"}          the rest, together
     "buckets": [{"start", <the counts of totals but ocr_failures>, "text_coverage",
                  "apps": {app: minutes} (apps of "apps" only), "other_apps_minutes"}, ...]
                                                 buckets with activity or tokens, in time order
     "gaps": [{"reason", "count", "seconds", "open", "frames_shed"}, ...]   longest first
     "ongoing_gap": {"reason", "since", "seconds"} or null}   a gap of the running owner's recorder
                                                 going on now (a pause), not stored until it ends

An active minute, seen, heard and unread are defined in ``store/activity.py``; text coverage is
the share of active minutes that are seen (screen) and heard (speech). A gap still going on (a
pause not yet resumed) is stored, and counted in ``gaps``, when it ends; till then the owner says
it (``ongoing_gap``: its seconds within the range). ``apps`` uses "" for frames whose
window was unknown.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from lifelog.errors import UsageError
from lifelog.store.activity import ActivityRows, MinuteRow

TOP_APPS = 12
MAX_OFFSET = 18 * 60  # minutes: the widest UTC offset in use is +14:00
COUNTS = ("active", "screen", "sound", "seen", "heard", "unread")
DEFINITIONS = {
    "active_minutes": "minutes in which the screen changed (a frame kept, a line appeared), sound was kept or speech heard",
    "screen_minutes": "active minutes with a kept frame or a line of text that appeared",
    "sound_minutes": "active minutes overlapped by kept sound",
    "seen_minutes": "active minutes during which text read from the screen was visible",
    "heard_minutes": "active minutes overlapped by transcribed speech",
    "unread_minutes": "screen minutes with no text read from the screen visible (no text shown, or OCR not reading)",
    "apps": "each active minute counts for the app in front on most of its frames (else the last one seen)",
    "text_coverage": "seen_minutes and heard_minutes as shares of active_minutes",
    "tokens": "o200k tokens of the lines seen and heard that began in the range",
    "gaps": "stretches not recorded, by reason, seconds within the range",
    "ongoing_gap": "a stretch not being recorded now (a pause), stored when it ends",
}


def check_range(since: datetime | None, until: datetime | None, utc_offset: int, now: datetime) -> None:
    """One line for a range or offset that cannot be counted (times naive UTC)."""
    if since is not None and until is not None and until <= since:
        raise UsageError(f"The range ends ({until:%Y-%m-%d %H:%M:%S}) before it starts ({since:%Y-%m-%d %H:%M:%S}).")
    if since is not None and until is None and since >= now:
        raise UsageError(f"The range starts ({since:%Y-%m-%d %H:%M:%S} UTC) in the future: give an earlier start.")
    if not -MAX_OFFSET <= utc_offset <= MAX_OFFSET:
        raise UsageError(
            f"utc_offset {utc_offset} is not a time zone's: give minutes from -{MAX_OFFSET} to {MAX_OFFSET}."
        )


def activity_json(
    rows: ActivityRows,
    since: datetime | None,
    until: datetime | None,
    utc_offset: int,
    now: datetime,
    ongoing: dict | None = None,
) -> dict:
    """The answer for [since, until) from the store's counts; ``ongoing``: the recorder's gap
    going on now (``{"since": ISO, "reason"}``, as the owner's status says), if any."""
    top, others = _top_apps(rows.minutes)
    named = {a for a, _ in top}
    totals = _counts(rows.minutes)
    totals["ocr_failures"] = rows.ocr_failures
    totals["tokens_seen"] = sum(t[1] for t in rows.tokens)
    totals["tokens_heard"] = sum(t[2] for t in rows.tokens)
    totals["text_coverage"] = _coverage(totals)
    return {
        "since": _iso(since or rows.first or now),
        "until": _iso(until or now),
        "utc_offset_minutes": utc_offset,
        "bucket": rows.part,
        "first": _iso(rows.first) if rows.first else None,
        "last": _iso(rows.last) if rows.last else None,
        "definitions": DEFINITIONS,
        "totals": totals,
        "apps": [{"app": a, "minutes": m} for a, m in top],
        "other_apps": {"apps": len(others), "minutes": sum(others.values())},
        "buckets": _buckets(rows, named),
        "gaps": [
            {
                "reason": g.reason,
                "count": g.count,
                "seconds": round(g.seconds, 1),
                "open": g.open,
                "frames_shed": g.frames_shed,
            }
            for g in rows.gaps
        ],
        "ongoing_gap": _ongoing(ongoing, since, until, now),
    }


def _ongoing(gap: dict | None, since: datetime | None, until: datetime | None, now: datetime) -> dict | None:
    """The gap going on now, with its seconds within the range; None when there is none or it
    began after the range."""
    if not gap:
        return None
    began = datetime.fromisoformat(str(gap["since"]).removesuffix("Z"))
    end = min(until or now, now)
    if began >= end:
        return None
    seconds = (end - max(began, since or began)).total_seconds()
    return {"reason": str(gap["reason"]).split(" (")[0], "since": _iso(began), "seconds": round(max(seconds, 0.0), 1)}


def _top_apps(minutes: list[MinuteRow]) -> tuple[list[tuple[str, int]], dict[str, int]]:
    by_app: dict[str, int] = defaultdict(int)
    for r in minutes:
        by_app[r.app] += r.active
    ranked = sorted(by_app.items(), key=lambda kv: (-kv[1], kv[0]))
    return ranked[:TOP_APPS], dict(ranked[TOP_APPS:])


def _counts(minutes: list[MinuteRow]) -> dict:
    out = {f"{name}_minutes": sum(getattr(r, name) for r in minutes) for name in COUNTS}
    out["frames"] = sum(r.frames for r in minutes)
    return out


def _coverage(counts: dict) -> dict:
    active = counts["active_minutes"]
    return {
        "screen": round(counts["seen_minutes"] / active, 3) if active else None,
        "speech": round(counts["heard_minutes"] / active, 3) if active else None,
    }


def _buckets(rows: ActivityRows, named: set[str]) -> list[dict]:
    by_bucket: dict[datetime, list[MinuteRow]] = defaultdict(list)
    for r in rows.minutes:
        by_bucket[r.bucket].append(r)
    tokens = {b: (seen, heard) for b, seen, heard in rows.tokens}
    out = []
    for start in sorted(set(by_bucket) | set(tokens)):
        mins = by_bucket.get(start, [])
        counts = _counts(mins)
        counts["tokens_seen"], counts["tokens_heard"] = tokens.get(start, (0, 0))
        counts["text_coverage"] = _coverage(counts)
        apps = {r.app: r.active for r in mins if r.app in named}
        out.append(
            {
                "start": _iso(start),
                **counts,
                "apps": apps,
                "other_apps_minutes": sum(r.active for r in mins if r.app not in named),
            }
        )
    return out


def _iso(ts: datetime) -> str:
    return ts.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
