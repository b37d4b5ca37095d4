"""Context windows from a real DuckDB timeline: chronological, collapsed, deterministic, and
never over budget, with the count being the tokenizer's count of the exact text."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from lifelog.errors import BudgetError, UsageError
from lifelog.replay.context import build_context
from lifelog.store import Store
from lifelog.tokenize_media.tokenizers import get_tokenizer
from tests.support.writes import show

T0 = datetime(2026, 11, 24, 9, 0, 0)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("ctx") / "t.duckdb")
    s.migrate()
    with s.write() as w:
        show(w, T0, "firefox", "Invoices", ["Invoice 4821", "Total due: 1,250.00 EUR"])
        show(w, T0 + timedelta(seconds=1), "firefox", "Invoices", ["Invoice 4821", "Total due: 1,250.00 EUR"])
        show(w, T0 + timedelta(seconds=30), "XTerm", "bash", ["$ make test", "12 passed"])
        show(
            w,
            T0 + timedelta(seconds=90),
            "firefox",
            "Invoices",
            ["Invoice 4821", "Total due: 1,250.00 EUR", "Paid on 2 December"],
        )
        for i in range(200):  # a long scrolling log later on
            show(
                w,
                T0 + timedelta(minutes=5, seconds=i),
                "XTerm",
                "tail -f app.log",
                [f"2026-11-24 request {i} served in {i % 17} ms by worker {i % 5}"],
            )
        w.close_spans(T0 + timedelta(minutes=10))
    return s


def _ctx(store, **kw):
    kw.setdefault("since", T0 - timedelta(minutes=1))
    kw.setdefault("until", T0 + timedelta(hours=1))
    kw.setdefault("budget", 100_000)
    with store.read() as r:
        return build_context(r, **kw)


def test_everything_fits_in_time_order_with_headers(store):
    w = _ctx(store)
    text = w.text
    assert w.omitted is None
    assert (
        text.index("Invoice 4821")
        < text.index("$ make test")
        < text.index("Paid on 2 December")
        < text.index("request 0 ")
    )
    assert "### 09:00:00 · seen · firefox — Invoices" in text
    assert "### 09:00:30 · seen · XTerm — bash" in text
    # identical text seen again (same window, later frame) is not repeated
    assert text.count("Invoice 4821") == 1 and text.count("Total due") == 1


def test_count_is_exact_and_output_deterministic(store):
    a, b = _ctx(store), _ctx(store)
    assert a.text == b.text
    assert a.tokens == get_tokenizer("o200k").count(a.text)


@pytest.mark.parametrize("budget", [130, 200, 500, 1000, 2500])
def test_never_over_budget_and_says_what_was_left_out(store, budget):
    w = _ctx(store, budget=budget)
    assert w.tokens == get_tokenizer("o200k").count(w.text) <= budget
    assert w.omitted is not None
    assert "left out to fit the token budget" in w.text
    assert "request 199 " in w.text  # newest activity is kept
    # filling: one more line would not have fit
    assert w.tokens > budget * 0.6


def test_json_format_reports_its_own_exact_count(store):
    w = _ctx(store, budget=800, fmt="json")
    doc = json.loads(w.text)
    assert doc["tokens"] == w.tokens == get_tokenizer("o200k").count(w.text) <= 800
    assert w.text == json.dumps(doc, ensure_ascii=False, indent=1) + "\n"  # its count rewritten in place, exactly
    assert doc["omitted"]["lines"] > 0
    assert doc["blocks"][-1]["lines"][-1].startswith("2026-11-24 request 199 ")


def test_other_tokenizer(store):
    w = _ctx(store, budget=300, tokenizer="cl100k")
    assert w.tokens == get_tokenizer("cl100k").count(w.text) <= 300


def test_budget_below_minimum_and_bad_format(store):
    with pytest.raises(BudgetError, match="below the smallest possible window"):
        _ctx(store, budget=5)
    with pytest.raises(UsageError, match="Unknown format"):
        _ctx(store, fmt="yaml")


def test_slice_starting_mid_span_shows_what_was_on_screen(store):
    w = _ctx(store, since=T0 + timedelta(seconds=10), until=T0 + timedelta(seconds=40))
    assert "Invoice 4821" in w.text  # visible since 09:00:00, still on screen at 09:00:10
    assert "$ make test" in w.text
    assert "request" not in w.text


def test_empty_range(store):
    w = _ctx(store, since=T0 + timedelta(days=1), until=T0 + timedelta(days=2))
    assert "(nothing recorded in this range)" in w.text


def test_a_cut_window_keeps_every_line_of_the_stretch_it_covers(tmp_path):
    """A line seen early and seen again later in the same window is left out as a repeat only
    while its first showing is in the window: when the cut drops the first showing, the later
    one stays (it was on screen during the window's own time range)."""
    s = Store(tmp_path / "t.duckdb")
    with s.write() as w:
        show(w, T0, "firefox", "Runbook", ["Deploy key rotates on Fridays", "Step 1: drain the node"])
        for i in range(300):  # a long log in between pushes the first showing out of a small window
            show(w, T0 + timedelta(seconds=10 + i), "XTerm", "tail -f app.log", [f"request {i} served in {i % 17} ms"])
        show(
            w,
            T0 + timedelta(minutes=20),
            "firefox",
            "Runbook",
            ["Deploy key rotates on Fridays", "Step 1: drain the node", "Step 2: restart"],
        )
        w.close_spans(T0 + timedelta(minutes=21))
    full = _ctx(s)
    assert full.text.count("Deploy key rotates on Fridays") == 1  # the repeat is left out when both fit
    cut = _ctx(s, budget=400)
    assert cut.omitted is not None and "Step 2: restart" in cut.text
    assert "Deploy key rotates on Fridays" in cut.text and "Step 1: drain the node" in cut.text
    assert cut.tokens == get_tokenizer("o200k").count(cut.text) <= 400


def test_the_omission_marker_names_both_days(tmp_path):
    s = Store(tmp_path / "t.duckdb")
    with s.write() as w:
        for day in range(3):
            for i in range(40):
                show(
                    w,
                    T0 + timedelta(days=day, seconds=i),
                    "XTerm",
                    f"day {day}",
                    [f"day {day} line {i} of the build log"],
                )
        w.close_spans(T0 + timedelta(days=3))
    cut = _ctx(s, since=T0 - timedelta(hours=1), until=T0 + timedelta(days=4), budget=300)
    assert "2026-11-24 09:00:00–2026-11-26 09:00:" in cut.text, cut.text.splitlines()[1]


@pytest.mark.parametrize("budget", [300, 100_000])
def test_xml_is_well_formed_exact_and_under_budget(store, budget):
    import xml.etree.ElementTree as ET

    w = _ctx(store, fmt="xml", budget=budget)
    root = ET.fromstring(w.text)
    assert w.tokens == get_tokenizer("o200k").count(w.text) <= budget
    seen = root.findall("seen")
    assert seen and all(e.get("time", "").endswith("Z") and e.get("app") for e in seen)
    if budget == 100_000:
        first = seen[0]
        assert (first.get("app"), first.get("window")) == ("firefox", "Invoices") and "Invoice 4821" in first.text
    else:
        assert root.find("omitted") is not None and "request 199 " in w.text


def test_new_activity_only_appends_to_a_window_that_fits(tmp_path):
    """Cache-friendly: the same range gives the same bytes, and later activity leaves the
    earlier window as a byte prefix (a provider's prompt cache reuses it)."""
    s = Store(tmp_path / "t.duckdb")
    with s.write() as w:
        show(w, T0, "firefox", "Invoices", ["Invoice 4821", "Total due: 1,250.00 EUR"])
        show(w, T0 + timedelta(seconds=20), "XTerm", "bash", ["$ make test"])
    before = _ctx(s, until=T0 + timedelta(hours=2)).text
    with s.write() as w:
        show(w, T0 + timedelta(seconds=40), "XTerm", "bash", ["$ make test", "12 passed"])
        show(w, T0 + timedelta(minutes=5), "firefox", "Invoices", ["Invoice 4821", "Paid on 2 December"])
        w.close_spans(T0 + timedelta(minutes=6))
    after = _ctx(s, until=T0 + timedelta(hours=2)).text
    assert after.startswith(before) and len(after) > len(before)
    assert "12 passed" in after and "Paid on 2 December" in after


CJK = [
    "注意力竞争是新的稀缺资源",
    "語音識別模型在本機運行，不上傳任何資料",
    "会議室の予約は明日の十時です",
    "회의는 내일 오전 열 시입니다",
    "lifelog 把屏幕上的文字变成 tokens",
    "发布失败：证书在 02:10 过期了",
]


@pytest.fixture(scope="module")
def cjk_store(tmp_path_factory):
    """Chinese (Simplified and Traditional), Japanese, Korean and mixed lines, over four hours."""
    s = Store(tmp_path_factory.mktemp("cjk") / "t.duckdb")
    with s.write() as w:
        for i in range(240):
            ts = T0 + timedelta(minutes=i)
            show(
                w,
                ts,
                "chromium",
                f"新闻 {i // 30}",
                [f"{CJK[(i + k) % len(CJK)]}（第{i}段，第{k}行）" for k in range(4)],
            )
        w.close_spans(T0 + timedelta(hours=5))
    return s


@pytest.mark.parametrize("tokenizer", ["o200k", "cl100k", "qwen3", "llama3", "claude-approx", "gemini-approx"])
@pytest.mark.parametrize("fmt", ["markdown", "json", "xml"])
@pytest.mark.parametrize("budget", [300, 2_000, 9_000, 60_000])
def test_cjk_windows_are_exact_and_never_over_budget(cjk_store, tokenizer, fmt, budget):
    """Budgets hold for text written without spaces: the count is the tokenizer's recount of
    the emitted bytes, under every budget, tokenizer and format; the newest line is in."""
    w = _ctx(cjk_store, since=T0, until=T0 + timedelta(hours=5), budget=budget, fmt=fmt, tokenizer=tokenizer)
    assert w.tokens == get_tokenizer(tokenizer).count(w.text) <= budget
    assert w.omitted is None or w.tokens > budget * 0.5  # all of it, or filled
    if budget >= 2_000:  # (300 holds the outline of the four hours and no line at full detail)
        assert "第239段，第3行" in w.text
