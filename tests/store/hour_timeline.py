"""A small generated timeline of several days for the hour summaries' tests (``store/hours.py``),
and the check that summaries and lines give the same reads."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

DAY0 = datetime(2026, 3, 2)
WINDOWS = [
    ("Code", "main.py — Visual Studio Code"),
    ("Code", "notes.md — Visual Studio Code"),
    ("firefox", "Inbox — Mozilla Firefox"),
    ("Slack", "#eng - Acme - Slack"),
    ("XTerm", "dana@work: ~"),
]


def timeline(days: int = 3, seed: int = 7) -> tuple[list[tuple], list[tuple]]:
    """``seen`` and ``heard`` rows (``store/exchange.py``'s tuples) of ``days`` working days, 08:00
    to 14:00 with a break: lines on two monitors, some shown at the same instant in several
    windows, some staying on screen for hours, and speech now and then."""
    rnd = random.Random(seed)
    seen, heard = [], []
    for day in range(days):
        t = DAY0 + timedelta(days=day, hours=8, microseconds=rnd.randrange(10**6))
        seen.append(
            (
                t,
                t + timedelta(hours=3, minutes=17),
                1,
                "Slack",
                "#eng - Acme - Slack",
                f"pinned note of day {day}",
                0,
                0,
                0,
                "",
            )
        )
        while t < DAY0 + timedelta(days=day, hours=14):
            app, window = rnd.choice(WINDOWS)
            monitor = rnd.randrange(2)
            for i in range(rnd.randrange(1, 6)):
                shown = timedelta(seconds=rnd.expovariate(1 / 400))
                seen.append(
                    (
                        t,
                        t + shown,
                        monitor,
                        app,
                        window,
                        f"{app} line {rnd.randrange(60)}",
                        22 * i,
                        rnd.choice((0, 640)),
                        i,
                        rnd.choice(("", "", "  ", "\n")),
                    )
                )
            if rnd.random() < 0.08:
                heard.append(
                    (
                        t,
                        t + timedelta(seconds=rnd.uniform(1, 9)),
                        rnd.choice(("mic", "system")),
                        "faster-whisper",
                        f"we said {rnd.randrange(500)} things",
                        rnd.choice(("", "en")),
                    )
                )
            if rnd.random() < 0.1:
                continue  # another window changes at the same instant
            t += timedelta(seconds=rnd.expovariate(1 / 25), microseconds=rnd.randrange(10**6))
            if DAY0 + timedelta(days=day, hours=11) <= t < DAY0 + timedelta(days=day, hours=12, minutes=10):
                t = DAY0 + timedelta(days=day, hours=12, minutes=10, seconds=3)  # lunch: an hour with nothing
    return seen, heard


def random_ranges(n: int, seed: int = 3, days: int = 3) -> list[tuple[datetime | None, datetime | None]]:
    """``n`` ranges over the days and a little around them: bounds left open, on hour
    boundaries, or anywhere to the microsecond."""
    rnd = random.Random(seed)

    def bound() -> datetime | None:
        kind = rnd.random()
        if kind < 0.1:
            return None
        at = DAY0 + timedelta(hours=6) + timedelta(seconds=rnd.uniform(0, days * 86400))
        return at.replace(minute=0, second=0, microsecond=0) if kind < 0.4 else at

    ranges = []
    for _ in range(n):
        a, b = bound(), bound()
        if a is not None and b is not None and b < a:
            a, b = b, a
        ranges.append((a, b))
    return ranges


def types(outline: dict) -> list:
    return [[tuple(type(v) for v in row) for row in outline[k]] for k in ("seen", "heard")] + [
        tuple(type(v) for v in outline["totals"])
    ]


def assert_reads_match(reader, since: datetime | None, until: datetime | None) -> dict:
    """The reads from summaries equal the reads from the lines alone: rows, order, values and types."""
    costs = reader.token_costs(since, until)
    assert costs == reader._live_token_costs(since, until), (since, until)
    assert all(type(h) is datetime and type(n) is int for h, n in costs)
    outline, live = reader.outline_rows(since, until), reader._live_outline_rows(since, until)
    assert outline == live, (since, until)
    assert types(outline) == types(live), (since, until)
    return outline
