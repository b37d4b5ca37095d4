"""Ninety days in one window (issue 22): once digested, a window too small for the range at full
detail covers every one of the 90 days (the newest in full, the older ones as digests, never
silence), under its budget; a fact from an old day is still found in full with --query. A real
DuckDB timeline written through the store (bench/digests.py runs the same at scale, 1M tokens)."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

import pytest

from lifelog.replay.context import build_context
from lifelog.replay.digest import catch_up
from lifelog.store import Store
from lifelog.tokenize_media.tokenizers import get_tokenizer
from tests.support.writes import show

T0 = datetime(2026, 6, 1, 9, 0)
DAYS = 90
PROJECTS = ["billing", "search", "mobile", "reports", "onboarding", "payments", "exports", "alerts", "sync"]
WORDS = (
    "cache queue latency budget schema index replica shard token session cookie invoice ledger refund "
    "timeout retry backoff webhook tenant quota metric alert dashboard rollout canary flag migration "
    "vendor contract review sprint roadmap customer ticket outage postmortem runbook pager deploy"
).split()
PAGE_LINES = 14  # a design doc's page: what makes an hour cost more in full than as a digest
FACT = "The locker code for the Lisbon office is 4417, Marta said"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("months") / "t.duckdb")
    rng = random.Random(7)
    with s.write() as w:
        for d in range(DAYS):
            for h in range(3):
                start = T0 + timedelta(days=d, hours=h)
                p = PROJECTS[(d + h) % len(PROJECTS)]
                show(
                    w,
                    start,
                    "XTerm",
                    f"bash: {p}",
                    [f"$ make test-{p}", f"FAILED test_{p}_{d}_{h}: expected {d * 7 + h} rows, got {d * 7}"],
                )
                page = [f"Decision for {p} on day {d}: ship the {p} change behind a flag after review {h}"]
                page += [_sentence(rng) for _ in range(PAGE_LINES)]
                show(w, start + timedelta(minutes=25), "firefox", f"{p} design doc", page)
                if d == 5 and h == 1:
                    show(w, start + timedelta(minutes=40), "Mail", "Inbox", [FACT, "Sent from my phone"])
                w.close_spans(start + timedelta(minutes=50))
        show(w, T0 + timedelta(days=DAYS), "XTerm", "bash: billing", ["$ git status"])
        w.summarise_hours(T0 + timedelta(days=DAYS + 1))
    catch_up(s)
    return s


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 14))).capitalize() + "."


def _window(store, budget, query=None):
    with store.read() as r:
        return build_context(r, since=T0, until=T0 + timedelta(days=DAYS + 1), budget=budget, query=query)


def test_a_window_covers_all_ninety_days_recent_in_full_older_as_digests(store):
    with store.read() as r:
        full = sum(c.tokens for c in r.token_costs(T0, T0 + timedelta(days=DAYS + 1)))
    budget = 40_000
    assert full > 1.5 * budget  # the range does not fit at full detail
    w = _window(store, budget)
    assert w.tokens == get_tokenizer("o200k").count(w.text) <= budget
    days = set(re.findall(r"^## (\d{4}-\d\d-\d\d)$", w.text, re.M))
    assert days == {f"{T0 + timedelta(days=d):%Y-%m-%d}" for d in range(DAYS + 1)}  # every day, none silent
    sections = dict(re.findall(r"^## (\d{4}-\d\d-\d\d)\n(.*?)(?=^## |\Z)", w.text, re.M | re.S))
    as_digest = [d for d, body in sections.items() if "· digest" in body]
    in_full = [d for d, body in sections.items() if "· seen ·" in body and "· digest" not in body]
    outlined = [d for d, body in sections.items() if "· outline" in body]
    assert len(as_digest) > 2 * len(in_full) > 0  # most days as digests, the newest in full
    assert len(outlined) <= 1  # counts only for the day the cut falls in
    assert max(as_digest) <= min(in_full)  # older as digests, newer in full
    assert "Decision for billing on day 0" in w.text or "FAILED test_billing_0_0" in w.text  # what the first day did
    assert "$ git status" in w.text  # the newest line, in full


def test_a_fact_from_an_old_day_is_found_in_full_with_a_query(store):
    w = _window(store, 8_000, query="what is the locker code for the Lisbon office?")
    assert w.tokens <= 8_000
    assert FACT in w.text
