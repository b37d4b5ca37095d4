"""Chunk vectors in a real DuckDB file with the real embedder: what is pending, the watermark,
re-embedding a minute that grew, bounded passes, nearest chunks, and migration 6 on a v5 file."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest

from lifelog.models import OcrLine
from lifelog.store import Store, embeddings, migrations
from lifelog.store.embeddings import HEARD, SEEN
from lifelog.tokenize_media.embed import embedding_unavailable, get_embedder
from tests.store.timeline_helpers import frame, line, said

T = datetime(2026, 3, 2, 9, 0, 0)  # a minute boundary
LATER = T + timedelta(hours=1)  # every minute below is settled by then


@pytest.fixture(scope="module")
def embedder():
    reason = embedding_unavailable()
    if reason:
        pytest.skip(reason)
    return CountingEmbedder(get_embedder())


class CountingEmbedder:
    """The real embedder, counting the passages it embeds."""

    def __init__(self, inner):
        self.inner, self.id, self.texts, self.cuts = inner, inner.id, [], set()

    def passages(self, texts, max_tokens=None):
        self.texts += texts
        self.cuts.add(max_tokens)
        return self.inner.passages(texts, max_tokens=max_tokens)

    def query(self, text):
        return self.inner.query(text)


def seen(w, seconds: float, text: str, *, app: str = "Firefox", window: str = "Inbox", monitor: int = 0) -> None:
    """A frame at T + seconds showing one line, stored as the recorder stores it."""
    ts = T + timedelta(seconds=seconds)
    fid = w.add_frame(frame(ts, monitor, app, window))
    w.observe_lines(fid, ts, monitor, app, window, [line(text)])


def rows(store: Store) -> list[tuple]:
    with store.read() as r:
        return r._con.execute(
            'SELECT chunk_start, kind, monitor, app, "window", source, n_lines, last_id FROM chunk_vectors ORDER BY ALL'
        ).fetchall()


def embed_all(store: Store, embedder, *, now=LATER, max_chunks=1000, batch=16) -> int:
    return embeddings.embed_store(store, embedder, max_chunks=max_chunks, batch=batch, now=now)


def backlog(store: Store, now=LATER) -> int:
    with store.read() as r:
        return embeddings.backlog(r._con, model=get_embedder().id, now=now)


def test_a_chunk_is_a_minute_of_one_window_or_one_source(store, embedder):
    with store.write() as w:
        seen(w, 5, "Invoice 4821 is overdue")
        seen(w, 20, "Please pay within 7 days")
        seen(w, 30, "kubectl get pods", app="XTerm", window="bash")
        seen(w, 40, "second monitor line", monitor=1)
        seen(w, 65, "next minute, same window")
        w.add_transcripts(
            [
                said(3, 8, "shall we book the flights"),
                said(50, 55, "yes, Tuesday"),
                said(10, 12, "system sound", source="system"),
            ]
        )
    assert backlog(store) == 6
    with store.read() as r:
        batch = embeddings.pending(r._con, 100, model=embedder.id, now=LATER)
    texts = {
        (c.kind, c.chunk_start.minute, c.monitor, c.app, c.source): [p.text for p in c.parts] for c in batch.chunks
    }
    assert texts == {
        # short lines of one window go together: a part carries a topic
        (SEEN, 0, 0, "Firefox", ""): ["Firefox — Inbox\nInvoice 4821 is overdue\nPlease pay within 7 days"],
        (SEEN, 0, 0, "XTerm", ""): ["XTerm — bash\nkubectl get pods"],
        (SEEN, 0, 1, "Firefox", ""): ["Firefox — Inbox\nsecond monitor line"],
        (SEEN, 1, 0, "Firefox", ""): ["Firefox — Inbox\nnext minute, same window"],
        (HEARD, 0, -1, "", "mic"): ["shall we book the flights yes, Tuesday"],
        (HEARD, 0, -1, "", "system"): ["system sound"],
    }
    assert embed_all(store, embedder) == 6
    assert backlog(store) == 0
    assert len(rows(store)) == 6
    assert embed_all(store, embedder) == 0  # nothing pending: nothing embedded again


CHAT = [  # one minute of a chat window: four messages, the second in two lines
    "Dana: the flight to Lisbon leaves at 7:40 on Friday, gate B12, bring the passport",
    "Omar: I tried the new ramen place on King Street yesterday, the broth was rich",
    "and the noodles were made by hand in front of us, best I have had in years",
    "Dana: the quarterly budget review moved to Thursday afternoon, room 4 upstairs",
    "Omar: ok",
]


def chat_minute(w) -> dict[str, int]:
    """The messages of CHAT seen at once, each a unit (a blank line before it); their line ids."""
    ts = T + timedelta(seconds=10)
    fid = w.add_frame(frame(ts, app="WhatsApp", window="Dana"))
    lines = [
        OcrLine(text, (40, 100 + 20 * i, 900, 118 + 20 * i), ord=i, lead="" if text.startswith("and ") else "\n")
        for i, text in enumerate(CHAT)
    ]
    w.observe_lines(fid, ts, 0, "WhatsApp", "Dana", lines)
    return dict(w._con.execute("SELECT text, id FROM text_spans").fetchall())


def test_a_minute_of_messages_is_embedded_message_by_message_and_found_by_its_lines(store, embedder):
    with store.write() as w:
        ids = chat_minute(w)
    embedder.texts.clear()
    assert embed_all(store, embedder) == 1  # one chunk, stored as its parts
    assert embedder.texts == [
        "WhatsApp — Dana\n" + CHAT[0],
        CHAT[1] + "\n" + CHAT[2],  # a message over two lines is one part
        CHAT[3] + "\n" + CHAT[4],  # "ok" is too short to carry a topic alone: it goes with the one before
    ]
    with store.read() as r:
        top = r.nearest_chunks(embedder.query("where did Omar eat noodles"), k=3)
        assert [h.part for h in top][0] == 1
        assert top[0].line_ids == (ids[CHAT[1]], ids[CHAT[2]])
        assert {h.part for h in top} == {0, 1, 2}  # a chunk comes once for each of its parts


def test_a_window_that_redraws_its_lines_is_embedded_with_each_line_once(store, embedder):
    with store.write() as w:  # the same lines drawn again later in the minute (a scroll back, a redraw)
        for seconds in (5, 25, 45):
            seen(w, seconds, "Heads up: the staging password was rotated")
            seen(w, seconds + 1, "  Omar Haddad  10:45 AM")
    embedder.texts.clear()
    embedder.cuts.clear()
    assert embed_all(store, embedder) == 1
    assert embedder.texts == ["Firefox — Inbox\nHeads up: the staging password was rotated\nOmar Haddad  10:45 AM"]
    assert embedder.cuts == {embeddings.CHUNK_TOKENS}  # cut to the chunk's tokens, not the model's 512
    assert [r[6] for r in rows(store)] == [6]  # every row is still counted: a new one makes it pending


def test_vectors_of_another_chunk_text_are_stale_and_replaced(store, embedder, monkeypatch):
    with store.write() as w:
        seen(w, 5, "Invoice 4821 is overdue")
        w.add_transcripts([said(3, 8, "the invoice is late")])
    assert embed_all(store, embedder) == 2
    old = embeddings.vector_model(embedder.id)
    monkeypatch.setattr(embeddings, "CHUNK_TEXT", embeddings.CHUNK_TEXT + 1)  # what is embedded changed
    assert embeddings.vector_model(embedder.id) != old
    assert backlog(store) == 2
    with store.read() as r:  # until they are re-embedded the stale vectors still serve semantic search
        assert len(r.nearest_chunks(embedder.query("unpaid bill"), k=5, model=embedder.id)) == 2
    assert embed_all(store, embedder, max_chunks=1, batch=1) == 1
    with store.read() as r:  # one chunk re-embedded: one row per chunk still, one of each text
        assert len(r.nearest_chunks(embedder.query("unpaid bill"), k=5, model=embedder.id)) == 2
        models = r._con.execute("SELECT model FROM chunk_vectors ORDER BY model").fetchall()
        assert models == [(old,), (embeddings.vector_model(embedder.id),)]
    assert embed_all(store, embedder) == 1 and backlog(store) == 0
    with store.read() as r:
        models = r._con.execute("SELECT DISTINCT model FROM chunk_vectors").fetchall()
        assert models == [(embeddings.vector_model(embedder.id),)]  # the stale rows went as they were replaced
        assert len(r.nearest_chunks(embedder.query("unpaid bill"), k=5, model=embedder.id)) == 2


def test_the_minute_being_recorded_waits_until_it_settles(store, embedder):
    with store.write() as w:
        seen(w, 5, "an old minute")
        seen(w, 125, "the current minute")
    now = T + timedelta(seconds=150)  # minute 2 is still open; minute 0 ended 90 s ago
    assert embed_all(store, embedder, now=now) == 0
    now = T + timedelta(seconds=185)  # minute 0 ended 125 s ago: settled
    assert embed_all(store, embedder, now=now) == 1
    assert [r[0] for r in rows(store)] == [T]
    assert embed_all(store, embedder, now=T + timedelta(seconds=305)) == 1
    assert [r[0] for r in rows(store)] == [T, T + timedelta(minutes=2)]


def test_a_minute_that_gets_more_lines_later_is_embedded_again_whole(store, embedder):
    with store.write() as w:
        seen(w, 5, "Slow-roasted lamb shoulder")
    embed_all(store, embedder)
    with store.write() as w:  # a spool processed late, or an import, adds to the same minute
        seen(w, 30, "Roast covered for four hours")
    embedder.texts.clear()
    assert embed_all(store, embedder) == 1
    assert embedder.texts == ["Firefox — Inbox\nSlow-roasted lamb shoulder\nRoast covered for four hours"]
    assert [(r[6], r[7]) for r in rows(store)] == [(2, 2)]  # one row for the chunk: 2 lines, last id 2


def test_bounded_passes_skip_nothing_and_embed_each_chunk_once(store, embedder):
    with store.write() as w:  # rows of two monitors interleave by id, as the recorder writes them
        for minute in range(4):
            for m in (0, 1):
                seen(w, minute * 60 + 10 + m, f"minute {minute} monitor {m} first", monitor=m)
            for m in (0, 1):
                seen(w, minute * 60 + 20 + m, f"minute {minute} monitor {m} second", monitor=m)
    embedder.texts.clear()
    passes = 0
    while embed_all(store, embedder, max_chunks=1, batch=1):
        passes += 1
    assert passes == 8 and backlog(store) == 0
    assert sorted(embedder.texts) == sorted(
        f"Firefox — Inbox\nminute {i} monitor {m} first\nminute {i} monitor {m} second"
        for i in range(4)
        for m in (0, 1)
    )


def test_a_batch_is_not_stored_when_another_embedder_moved_the_watermark(store, embedder):
    with store.write() as w:
        seen(w, 5, "one line")
    with store.read() as r:
        stale = embeddings.pending(r._con, 10, model=embedder.id, now=LATER)
    embed_all(store, embedder)
    with store.write() as w:
        assert embeddings.store_vectors(w._con, stale, embedder.passages(stale.texts())) == 0
    assert len(rows(store)) == 1


def test_nearest_ranks_chunks_by_meaning_within_the_range(store, embedder):
    with store.write() as w:
        seen(w, 5, "payments-api CrashLoopBackOff: Back-off restarting failed container", app="XTerm", window="kubectl")
        seen(w, 70, "Slow-roasted lamb shoulder with garlic and rosemary, four hours in the oven")
        seen(w, 130, "2026年第三季度营业收入同比增长12%，毛利率提高到41%", app="WPS", window="财务报告")
        w.add_transcripts([said(200, 210, "let's book the flights to Lisbon for the conference")])
    embed_all(store, embedder)
    query = embedder.query
    with store.read() as r:
        assert r.nearest_chunks(query("why does the container keep restarting"), k=1)[0].app == "XTerm"
        assert r.nearest_chunks(query("季度收入增长"), k=1)[0].window == "财务报告"
        top = r.nearest_chunks(query("travel plans"), k=1, model=embedder.id)[0]
        assert (top.kind, top.source, top.monitor) == (HEARD, "mic", None)
        assert top.chunk_end - top.chunk_start == timedelta(minutes=1)
        cooking = query("dinner recipe")
        assert r.nearest_chunks(cooking, k=1)[0].app == "Firefox"
        # a range that leaves the cooking minute out; a chunk overlapping the edge is in
        assert all(h.app != "Firefox" for h in r.nearest_chunks(cooking, since=T + timedelta(seconds=125), k=10))
        assert (
            r.nearest_chunks(cooking, since=T + timedelta(seconds=119), until=T + timedelta(seconds=121), k=10)[0].app
            == "Firefox"
        )
        assert len(r.nearest_chunks(cooking, k=10, kind=SEEN)) == 3
        assert r.nearest_chunks(cooking, k=10, model="another-model") == []
        assert r.embedding_backlog(embedder.id) == 0


def test_migration_6_on_a_version_5_database_leaves_every_chunk_pending(db_path, embedder):
    before_6 = {v: fn for v, fn in migrations.MIGRATIONS.items() if v < 6}
    Store(db_path).migrate()  # create the file, then undo: freeze it at the version before 6
    db_path.unlink()
    from lifelog.store.db import create_private_db

    create_private_db(db_path)
    con = duckdb.connect(str(db_path))
    try:
        migrations.apply(con, before_6)
        con.execute(
            'INSERT INTO text_spans (t_start, t_end, monitor, app, "window", text) VALUES'
            " (?, ?, 0, 'Thunderbird', 'Inbox', 'Invoice 4821 is overdue')",
            [T, T],
        )
        con.execute(
            "INSERT INTO transcripts (t_start, t_end, source, engine, text) VALUES"
            " (?, ?, 'mic', 'faster-whisper', 'the invoice is late')",
            [T, T],
        )
    finally:
        con.close()
    store = Store(db_path)
    assert store.migrate()[0] == 6
    assert backlog(store) == 2 and rows(store) == []
    assert embed_all(store, embedder) == 2 and backlog(store) == 0


def test_a_backlog_is_read_in_slices_of_ids_even_across_a_gap_in_them(store, embedder, monkeypatch):
    monkeypatch.setattr(embeddings, "SCAN_ROWS", 2)
    with store.write() as w:
        for minute in range(3):
            for k in range(3):
                seen(w, minute * 60 + 10 + k, f"minute {minute} line {k}")
        w._con.execute("SELECT max(nextval('text_spans_id_seq')) FROM range(500)")  # ids jump, as after rollbacks
        seen(w, 200, "after the gap")
        assert w._con.execute("SELECT max(id) FROM text_spans").fetchone()[0] > 500
    embedder.texts.clear()
    assert embed_all(store, embedder) == 4 and backlog(store) == 0
    assert len(embedder.texts) == 4  # each minute once, though its rows spanned slices


def test_int8_vectors_keep_the_cosine_within_a_hundredth(embedder):
    import numpy as np

    vectors = embedder.passages(["Invoice 4821 is overdue", "季度财务报告", "kubectl get pods"])
    query = embedder.query("unpaid bill")
    for v in vectors:
        scale, ints = embeddings.quantize([float(x) for x in v])
        assert all(-127 <= i <= 127 for i in ints)
        assert abs(scale * np.dot(ints, query) - float(np.dot(v, query))) < 0.01


def test_migration_14_keeps_whole_minute_vectors_serving_until_their_parts_replace_them(db_path, embedder):
    before_14 = {v: fn for v, fn in migrations.MIGRATIONS.items() if v < 14}
    from lifelog.store.db import create_private_db

    create_private_db(db_path)
    con = duckdb.connect(str(db_path))
    try:
        migrations.apply(con, before_14)
        con.execute(
            'INSERT INTO text_spans (t_start, t_end, monitor, app, "window", text) VALUES'
            " (?, ?, 0, 'Thunderbird', 'Inbox', 'Invoice 4821 is overdue')",
            [T, T],
        )
        scale, ints = embeddings.quantize([float(x) for x in embedder.passages(["Invoice 4821 is overdue"])[0]])
        con.execute(  # a vector of chunk text version 2, one per minute, as stored before parts
            'INSERT INTO chunk_vectors (chunk_start, kind, monitor, app, "window", source, model, n_lines, last_id,'
            " scale, vector) VALUES (?, 'seen', 0, 'Thunderbird', 'Inbox', '', ?, 1, 1, ?, ?::TINYINT[384])",
            [T, f"{embedder.id}/text2-384", scale, ints],
        )
    finally:
        con.close()
    store = Store(db_path)
    assert store.migrate()[0] == 14
    with store.read() as r:
        (hit,) = r.nearest_chunks(embedder.query("unpaid bill"), k=5, model=embedder.id)
    assert (hit.app, hit.part, hit.line_ids) == ("Thunderbird", 0, ())  # the whole minute, as before
    assert backlog(store) == 1
    assert embed_all(store, embedder) == 1 and backlog(store) == 0
    with store.read() as r:
        (hit,) = r.nearest_chunks(embedder.query("unpaid bill"), k=5, model=embedder.id)
        assert hit.line_ids == (r._con.execute("SELECT id FROM text_spans").fetchone()[0],)
