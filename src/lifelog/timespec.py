"""Parse the time specs the CLI accepts: ``90s``, ``10m``, ``2h``, ``3d`` (ago), ISO-8601,
``09:00`` (today, local), ``now``, ``today``, ``yesterday``. Results are naive UTC datetimes, like the store's."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from lifelog.errors import UsageError

_AGO = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)$")
_CLOCK = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?$")
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
# The longest pause: a pause must end, and one longer than this was almost surely a typo.
MAX_PAUSE = timedelta(days=30)
_OUT_OF_RANGE = "is out of range: lifelog keeps times from year 1 to 9999 (UTC)"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def local_offset() -> int:
    """This machine's offset from UTC now, in minutes east."""
    delta = datetime.now().astimezone().utcoffset() or timedelta(0)
    return int(delta.total_seconds() // 60)


def parse_duration(spec: str) -> timedelta:
    """``90s``/``10m``/``2h``/``3d`` as a timedelta."""
    m = _AGO.match(spec.strip().lower())
    if not m:
        raise UsageError(f"Bad duration {spec!r}: use a number with s, m, h or d, e.g. 90s, 10m, 2h.")
    try:  # timedelta refuses over 999,999,999 days (and float('9' * 400) is inf)
        return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
    except (OverflowError, ValueError):
        raise UsageError(f"Bad duration {spec!r}: it is too long (at most 999999999d).") from None


def ago(duration: timedelta, now: datetime, spec: str) -> datetime:
    """``now`` minus ``duration``; a duration reaching before year 1 is a UsageError naming ``spec``."""
    try:
        return now - duration
    except OverflowError:
        raise UsageError(f"Bad time {spec!r}: {spec} ago {_OUT_OF_RANGE}.") from None


def pause_seconds(seconds: float | None, spec: str = "") -> float | None:
    """A pause's length checked before anything pauses: None (until resumed) or finite
    seconds in (0, MAX_PAUSE], so that every pause ends (NaN or a huge number never would)."""
    if seconds is None:
        return None
    if not 0 < seconds <= MAX_PAUSE.total_seconds():  # also False for NaN
        raise UsageError(
            f"Pause {spec or f'of {seconds:g} s'}: a pause lasts more than 0s and at most {MAX_PAUSE.days}d "
            "(omit the length to pause until `lifelog resume`)."
        )
    return float(seconds)


def parse_time(spec: str, now: datetime | None = None) -> datetime:
    """A point in time as naive UTC. Relative specs count back from ``now``."""
    now = now or utcnow()
    s = spec.strip().lower()
    if s == "now":
        return now
    if s in ("today", "yesterday"):
        local_midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        if s == "yesterday":
            local_midnight -= timedelta(days=1)
        return local_midnight.astimezone(UTC).replace(tzinfo=None)
    if _AGO.match(s):
        return ago(parse_duration(s), now, spec)
    iso = spec.strip()
    if _CLOCK.match(s):  # 09:00 or 9:00:30: that time today, local
        iso = f"{datetime.now().astimezone():%Y-%m-%d}T{s.zfill(len(s) + (s.index(':') == 1))}"
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        raise UsageError(
            f"Bad time {spec!r}: use 90s, 10m, 2h, 3d (ago), an ISO time like 2026-11-20T14:00, "
            "09:00 (today), today or yesterday."
        ) from None
    try:
        if dt.tzinfo is None:  # a wall-clock time the user typed is local time
            dt = dt.astimezone()
        return dt.astimezone(UTC).replace(tzinfo=None)
    except (OverflowError, ValueError):  # 0001-01-01T00:00+05:00 is in year 0 in UTC
        raise UsageError(f"Bad time {spec!r}: it {_OUT_OF_RANGE}.") from None


def parse_range(
    since: str | None, until: str | None, now: datetime | None = None
) -> tuple[datetime | None, datetime | None]:
    now = now or utcnow()
    start = parse_time(since, now) if since else None
    end = parse_time(until, now) if until else None
    if start and end and end <= start:
        raise UsageError(f"--until ({until}) must be after --since ({since}).")
    return start, end
