"""Chinese is one language to search: Traditional and Simplified characters fold to one form
on both sides (``terms.fold``), in the postings index, in the substring checks and in
``context --query``; what is shown stays as stored; migration 10 folds what was indexed before.
Real DuckDB files, the real index."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta

import duckdb
import pytest

from lifelog.errors import StoreError
from lifelog.models import OcrLine
from lifelog.replay.context import build_context
from lifelog.store import Store, search, search_index, terms
from lifelog.store.search import parse_query
from lifelog.store.sql import CORPORA
from tests.store.timeline_helpers import T0, at, observe, said
from tests.support.writes import show

CJK = re.compile(f"[{terms.NO_SPACE_RANGES}]")

SEEN = [
    "語音識別的會議記錄",  # Traditional
    "会议记录已发送给大家",  # Simplified
    "會議, 議記, 記錄",  # every bigram of 会议记录, never the four together
    "invoice 會 overdue",  # a lone character between Latin words
    "invoice paid",
    "Invoices for the café",
]
HEARD = [
    "明天的会议改到三点",  # Simplified
    "語音識別模型的測試結果很好",  # Traditional
]


def fill(store: Store) -> None:
    with store.write() as w:
        for i, text in enumerate(SEEN):
            observe(w, at(10 * i), [text])
        w.add_transcripts([said(100 + 10 * i, 105 + 10 * i, text) for i, text in enumerate(HEARD)])


def texts(store: Store, query: str, **kw) -> list[str]:
    with store.read() as r:
        return [(h.span or h.transcript).text for h in r.search(query, **kw)]


# --- the table --------------------------------------------------------------------------------


def test_the_table_is_cjk_to_cjk_one_to_one_and_folding_twice_changes_nothing():
    assert len(terms.FOLD) > 4000
    for src, dst in terms.FOLD.items():
        assert CJK.fullmatch(chr(src)) and CJK.fullmatch(chr(dst)), (chr(src), chr(dst))
        assert dst not in terms.FOLD  # a chain (薴 -> 苧 -> 苎) is written to its end
    assert terms.fold("語音識別 會議 薴 苧") == "语音识别 会议 苎 苎"
    assert terms.fold("乾 幹 干 阪") == "干 干 干 阪"  # OpenCC's first form: 乾 -> 干 (lossy, as t2s), 阪 -> itself


def test_english_and_other_scripts_keep_their_terms():
    assert terms.terms("Invoices for the Café, ＡＢＣ 4821") == ["invoice", "cafe", "abc", "4821"]
    assert terms.terms("明日の会議室の予約") == ["明日", "日の", "の会", "会议", "议室", "室の", "の予", "予约"]
    assert terms.fold("Straße naïve Ωμέγα русский 한국어 ひらがな") == "Straße naïve Ωμέγα русский 한국어 ひらがな"


def test_the_table_agrees_with_opencc_where_it_is_installed():
    """Folding OpenCC's t2s of a character gives the character's own fold: text converted with
    chinese_script = simplified is indexed as the text Whisper wrote."""
    opencc = pytest.importorskip("opencc")
    t2s = opencc.OpenCC("t2s.json").convert
    ideographs = [chr(c) for c in range(0x4E00, 0xA000)] + [chr(c) for c in terms.FOLD]
    wrong = [c for c in ideographs if terms.fold(t2s(c)) != terms.fold(c)]
    assert wrong == []


def test_the_terms_are_the_same_without_opencc():
    """The fold is lifelog's own table: an install without ``lifelog[multilingual]`` indexes the
    same terms (here OpenCC cannot be imported at all)."""
    code = "import sys; sys.modules['opencc'] = None\nfrom lifelog.store import terms\nprint(terms.terms(sys.argv[1]))"
    text = "語音識別的會議 and 会议记录, invoices"
    out = subprocess.run([sys.executable, "-c", code, text], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(terms.terms(text))


def test_unfold_names_what_folds_to_a_text():
    src, dst = terms.unfold("会议 abc 会")
    assert "會" in src and "議" in src and len(src) == len(dst)
    assert terms.fold(src) == dst and set(dst) == {"会", "议"}
    assert terms.unfold("invoice") == terms.unfold("カタカナ") == ("", "")


def test_query_substrings_are_folded():
    q = parse_query('"語音識別" 會 會議記錄 Invoice')
    assert q.phrases == ("语音识别",)
    assert q.runs == ("语音识别", "会议记录")
    assert q.chars == ("会",)
    assert "会议" in q.terms and "invoice" in q.terms


# --- search -----------------------------------------------------------------------------------


def test_a_simplified_query_finds_traditional_text_and_the_reverse(store):
    fill(store)
    found = texts(store, "语音识别")
    assert sorted(found) == sorted([HEARD[1], SEEN[0]])  # shown as stored: Traditional
    assert texts(store, "語音識別") == found
    both = texts(store, "會議")
    assert sorted(both) == sorted([SEEN[0], SEEN[1], SEEN[2], HEARD[0]])
    assert texts(store, "会议") == both
    assert texts(store, "会议", kinds=("heard",)) == [HEARD[0]]


def test_runs_and_quoted_phrases_hold_across_scripts(store):
    fill(store)
    for query in ("会议记录", "會議記錄"):
        ranked = texts(store, query, kinds=("seen",))
        # both rows holding the four characters together, in either script, before the row
        # that holds their bigrams apart
        assert set(ranked[:2]) == {SEEN[0], SEEN[1]} and ranked[2] == SEEN[2], ranked
    for query in ('"会议记录"', '"會議記錄"'):
        assert set(texts(store, query)) == {SEEN[0], SEEN[1]}
    assert texts(store, '"语音识别的会议"') == [SEEN[0]]
    assert texts(store, '"測試結果"') == [HEARD[1]]


def test_a_lone_character_matches_either_script(store):
    fill(store)
    assert texts(store, "invoice 会") == [SEEN[3]]
    assert texts(store, "invoice 會") == [SEEN[3]]
    lone = texts(store, "会")  # no index term: answered by substring, newest first
    assert lone == [HEARD[0], SEEN[3], SEEN[2], SEEN[1], SEEN[0]]
    assert texts(store, "會") == lone


def test_english_search_is_unchanged(store):
    fill(store)
    assert texts(store, "invoices") == [SEEN[5], SEEN[4], SEEN[3]]
    assert texts(store, "cafe") == [SEEN[5]]
    assert texts(store, '"invoice paid"') == [SEEN[4]]


def test_context_query_finds_across_scripts(tmp_path):
    """``context --query``: a question in one script brings the stretch written in the other,
    shown as it was stored."""
    s = Store(tmp_path / "t.duckdb")
    words = "invoice report server deploy queue meeting review branch commit ticket".split()
    fact_seen, fact_heard = "預算審查會議改到星期四下午三點", "语音识别模型的测试结果很好"
    with s.write() as w:
        for minute in range(120):
            ts = T0 + timedelta(minutes=minute)
            lines = [
                " ".join(words[(minute + i + k) % len(words)] for k in range(6)) + f" {minute}.{i}" for i in range(8)
            ]
            if minute == 40:
                lines.insert(4, fact_seen)
            show(w, ts, "Slack", "#team", [OcrLine(t, (10, 30 * i, 900, 30 * i + 20)) for i, t in enumerate(lines)])
        w.add_transcripts([said(80 * 60, 80 * 60 + 6, fact_heard)])
        w.close_spans(T0 + timedelta(minutes=120))
    until = T0 + timedelta(minutes=120)
    with s.read() as r:
        plain = build_context(r, since=T0, until=until, budget=600, semantic=False)
        simplified = build_context(r, since=T0, until=until, budget=600, query="预算审查会议", semantic=False)
        traditional = build_context(r, since=T0, until=until, budget=600, query="語音識別", semantic=False)
    assert fact_seen not in plain.text and fact_heard not in plain.text
    assert fact_seen in simplified.text and "Nothing in this range matches" not in simplified.note
    assert fact_heard in traditional.text and "Nothing in this range matches" not in traditional.note
    assert simplified.tokens <= 600 and traditional.tokens <= 600


# --- migration 10 -----------------------------------------------------------------------------


def postings(db_path) -> tuple[dict, list]:
    """Every posting of each corpus (runs and tail together, sorted) and the stats rows."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        out = {
            c.table: sorted(
                con.execute(
                    f"SELECT term, doc, tf, len, t_start, app FROM {c.postings}"
                    f" UNION ALL SELECT term, doc, tf, len, t_start, app FROM {c.tail}"
                ).fetchall()
            )
            for c in CORPORA
        }
        stats = sorted(con.execute("SELECT * FROM search_stats").fetchall())
        return out, stats
    finally:
        con.close()


def before_folding(db_path, monkeypatch, fill_with=fill) -> Store:
    """A store as lifelog left it before migration 10: rows indexed without folding, schema
    version 9."""
    with monkeypatch.context() as m:
        m.setattr(terms, "FOLD", {})
        store = Store(db_path)
        store.migrate()
        fill_with(store)
    con = duckdb.connect(str(db_path))
    try:
        con.execute("DELETE FROM schema_migrations WHERE version = 10")
    finally:
        con.close()
    return Store(db_path)


def old_search(store: Store, query: str) -> list[str]:
    """Search a store at version 9 as it is, without migrating it."""
    con = duckdb.connect(str(store.db_path), read_only=True)
    try:
        hits = search.search(con, query, since=None, until=None, app=None, limit=20)
        return [(h.span or h.transcript).text for h in hits]
    finally:
        con.close()


@pytest.mark.parametrize("small", [False, True])
def test_migration_folds_what_was_indexed_before(tmp_path, monkeypatch, small):
    if small:  # several chunks, and postings written as sorted runs
        monkeypatch.setattr(search_index, "BACKFILL_CHUNK", 2)
        monkeypatch.setattr(search_index, "TAIL_MAX", 8)
    old = before_folding(tmp_path / "old" / "t.duckdb", monkeypatch)
    assert old_search(old, "语音识别") == [] and old_search(old, "語音識別") == []  # the old index, folded queries
    with monkeypatch.context() as m:  # the lifelog that built it found it in its own script only
        m.setattr(terms, "FOLD", {})
        assert sorted(old_search(old, "語音識別")) == sorted([HEARD[1], SEEN[0]])
        assert old_search(old, "语音识别") == []

    assert old.migrate() == [10]
    assert sorted(texts(old, "语音识别")) == sorted([HEARD[1], SEEN[0]])
    assert set(texts(old, '"会议记录"')) == {SEEN[0], SEEN[1]}
    assert texts(old, "invoices") == [SEEN[5], SEEN[4], SEEN[3]]

    fresh = Store(tmp_path / "fresh" / "t.duckdb")
    fresh.migrate()
    fill(fresh)
    assert postings(old.db_path) == postings(fresh.db_path)  # as if indexed folded from the start

    # again: the same index (a row indexed folded is indexed the same way)
    con = duckdb.connect(str(old.db_path))
    try:
        con.begin()
        assert search_index.refold(con) == 4  # SEEN[0], SEEN[2], SEEN[3], HEARD[1]
        con.commit()
    finally:
        con.close()
    assert postings(old.db_path) == postings(fresh.db_path)


def test_an_english_timeline_is_scanned_not_rewritten(tmp_path, monkeypatch):
    def english(store):
        with store.write() as w:
            for i in range(50):
                observe(w, at(i), [f"invoice {i} paid", "budget review deck"])
            w.add_transcripts([said(100, 105, "the budget review is on friday")])

    store = before_folding(tmp_path / "t.duckdb", monkeypatch, english)
    before = postings(store.db_path)
    con = duckdb.connect(str(store.db_path))
    try:
        con.begin()
        assert search_index.refold(con) == 0
        con.rollback()
    finally:
        con.close()
    assert store.migrate() == [10]
    assert postings(store.db_path) == before


@pytest.mark.parametrize("stop", [RuntimeError, KeyboardInterrupt])
def test_an_interrupted_migration_leaves_the_old_index(tmp_path, monkeypatch, stop):
    store = before_folding(tmp_path / "t.duckdb", monkeypatch)
    before = postings(store.db_path)

    def interrupted(*args, **kwargs):
        raise stop  # after the old postings were deleted

    with monkeypatch.context() as m:
        m.setattr(search_index, "_insert", interrupted)
        with pytest.raises(StoreError if stop is RuntimeError else stop):
            store.migrate()
    assert postings(store.db_path) == before
    assert store.migrate() == [10]  # and it runs again
    assert sorted(texts(store, "语音识别")) == sorted([HEARD[1], SEEN[0]])
