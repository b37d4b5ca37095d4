"""A planted timeline for the ``context --query`` tests (focus, the CLI, the owner's limits): days of
screens in four windows with three facts and near misses that share their words, through the
store's writer (``plant``), and the questions that should find each fact (``QUERIES``)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from lifelog.models import Transcript
from lifelog.store import Store
from tests.support.writes import show

T0 = datetime(2026, 10, 1, 9, 0, 0)
DAYS = 10
STEP = 5  # minutes between screens
WINDOWS = [("firefox", "Inbox — Mail"), ("XTerm", "bash: ops"), ("code", "billing.py"), ("Slack", "#team")]
WORDS = (
    "invoice report server deploy queue meeting review branch commit ticket customer release "
    "metrics latency budget draft schedule backup cluster node config"
).split()
# (day, hour, minute, text): the facts, and near misses that share their words
FACTS = [
    (1, 2, 14, "seen", "The staging database password was rotated to tangerine-47 by Priya"),
    (4, 6, 33, "heard", "Dana moved the quarterly budget review to Thursday at 3 pm"),
    (9, 1, 47, "seen", "Root cause of the outage: the certificate on lb-east expired at 02:10"),
]
DISTRACTORS = [
    (2, 3, 5, "seen", "Reminder: rotate your own laptop password every 90 days"),
    (3, 4, 20, "seen", "The staging cache was flushed by the nightly job"),
    (6, 2, 50, "heard", "We should review the hiring plan at some point"),
    (7, 5, 12, "seen", "Outage drill scheduled for next month, no action needed"),
]
QUERIES = {
    0: "staging database password rotated",
    1: "who moved the budget review meeting",
    2: "root cause of the outage certificate",
}


def at(day, hour, minute):
    return T0 + timedelta(days=day, hours=hour, minutes=minute)


def plant(s: Store, days: int = DAYS) -> Store:
    """``days`` of screens (four windows, a new screen every STEP minutes, eight hours a day)
    with the facts and near misses planted where their day falls inside."""
    rng = random.Random(7)
    planted = {(d, h, m): (k, t) for d, h, m, k, t in FACTS + DISTRACTORS}
    with s.write() as w:
        for day in range(days):
            for hour in range(8):
                for minute in range(0, 60, STEP):
                    ts = at(day, hour, minute)
                    app, title = WINDOWS[(hour * 7 + minute // 9 + day) % len(WINDOWS)]
                    lines = [
                        " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 10))) + f" #{day}.{hour}.{minute}.{i}"
                        for i in range(6)
                    ]
                    for m in range(minute, minute + STEP):
                        kind, text = planted.get((day, hour, m), (None, None))
                        if kind == "seen":
                            lines.insert(3, text)
                        elif kind == "heard":
                            w.add_transcripts(
                                [
                                    Transcript(
                                        at(day, hour, m),
                                        at(day, hour, m) + timedelta(seconds=8),
                                        "mic",
                                        "faster-whisper",
                                        text,
                                        tokens=len(text.split()),
                                    )
                                ]
                            )
                    show(w, ts, app, title, lines)
        w.close_spans(at(days, 0, 0))
    return s
