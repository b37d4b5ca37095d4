"""Digests (issue 22): what they cost to make, how many tokens a day takes at full detail against
as hour, day and week digests, and what a window over the whole range holds with and without them.

    .venv/bin/python bench/digests.py [--days 30] [--budget 1000000] [--dir DIR]

Builds (``gen_timeline.py``, with the ten needle facts planted; or reuses ``DIR/digests-dDAYS``
from an earlier run) a timeline of ``--days`` days (8 active hours a day, ~10,000 spans and
~62,000 o200k tokens an hour at full detail). Then, as the owner does while the user is idle,
every hour, day and week is digested (``replay/digest.catch_up``), timed: wall and CPU seconds
of this process (one thread) per digested hour. Tokens per day: the stored cost at full detail
(lines plus their tokens, as ``token_costs`` says) beside the day's hour digests, its day
digest, and a seventh of its week's. Windows over the whole range at ``--budget``, without and
with digests: tokens, how many days are shown in full, as digests or as counts; and whether
each needle's answer is in a window built for its question (``--query``, BM25), from any age.

    nice -n 19 .venv/bin/python bench/digests.py --model local [--gguf FILE] [--hours 4] --days 2

With ``--model local`` the ``--hours`` newest hours are written instead by the local model, as
``digest_model = local`` runs it (llama.cpp's server, a child at nice 19 on one thread; the
weights of ``--gguf``, else the local-model extra's Qwen2.5-Coder-1.5B, else SmolLM2-135M): CPU
seconds of the server (its load apart) and of this process per digested hour, wall per hour, and
how many hours kept the model's text (the rest: nothing it wrote was grounded).
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import time
from datetime import timedelta
from pathlib import Path

import common
import gen_timeline
from needle_facts import plant_needles

from lifelog.config import Settings
from lifelog.replay.context import build_context
from lifelog.replay.digest import catch_up, hour_digest
from lifelog.replay.digest_model import from_settings
from lifelog.store import Store
from lifelog.tokenize_media.tokenizers import DEFAULT_TOKENIZER, get_tokenizer


def _build(folder: Path, days: int) -> Path:
    home = folder / f"digests-d{days}"
    if not (home / "lifelog.duckdb").exists():
        shutil.rmtree(home, ignore_errors=True)
        gen_timeline.build(home, days, plants=plant_needles(days).plants, progress=gen_timeline.log)
    return home / "lifelog.duckdb"


def _window_shape(text: str) -> dict:
    sections = dict(re.findall(r"^## (\d{4}-\d\d-\d\d)\n(.*?)(?=^## |\Z)", text, re.M | re.S))
    return {
        "days": len(sections),
        "in full": sum("· seen ·" in b and "· digest" not in b and "· outline" not in b for b in sections.values()),
        "as digests": sum("· digest" in b for b in sections.values()),
        "as counts": sum("· outline" in b and "· digest" not in b for b in sections.values()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--budget", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, default=None, help="where the timeline is built or found")
    ap.add_argument("--model", choices=["local"], default=None, help="hours written by the local model")
    ap.add_argument("--gguf", default="", help="with --model local: the .gguf to run (digest_gguf)")
    ap.add_argument("--hours", type=int, default=4, help="with --model local: how many hours it writes")
    args = common.parse(ap, quick={"days": 2, "budget": 20_000, "hours": 1})
    db = _build(args.dir or common.scratch("digests"), args.days)
    store = Store.open_owner(db)
    try:
        if args.model:
            by_model(store, args.gguf, args.hours)
            return
        with store.read() as r:
            first = r.token_costs(None, None)[0].hour
            last = r.token_costs(None, None)[-1].hour
        since, until = first, last + timedelta(hours=1)

        def window(**kw):
            t = time.perf_counter()
            with store.read() as r:
                w = build_context(r, since=since, until=until, budget=args.budget, semantic=False, **kw)
            return w, time.perf_counter() - t

        with store.write() as w:
            w._con.execute("DELETE FROM digests")  # a fresh run on a reused timeline
        before, before_s = window()
        with common.timed() as cost:
            report = catch_up(store)
        hours = report.hours or 1
        print(
            f"digested {report.hours:,} hours, {report.days} days, {report.weeks} weeks: {cost['wall']:.1f} s wall, "
            f"{cost['cpu']:.1f} s CPU; per hour {1000 * cost['wall'] / hours:.0f} ms wall, "
            f"{1000 * cost['cpu'] / hours:.0f} ms CPU (one thread)\n"
        )
        with store.read() as r:
            costs = r.token_costs(since, until)
            digests = r.digests(None, None)
        full: dict = {}
        for c in costs:
            full[c.hour.date()] = full.get(c.hour.date(), 0) + c.tokens
        per = {lv: {} for lv in ("hour", "day", "week")}
        for d in digests:
            key = d.start.date()
            per[d.level][key] = per[d.level].get(key, 0) + d.tokens
        days = sorted(full)
        week = {day: per["week"].get(day - timedelta(days=day.weekday()), 0) / 7 for day in days}
        rows = [
            ["full detail", round(statistics.mean(full[d] for d in days)), 1.0],
            *[
                [
                    f"as {lv} digests",
                    round(statistics.mean(v)),
                    round(statistics.mean(full[d] for d in days) / statistics.mean(v)),
                ]
                for lv, v in (
                    ("hour", [per["hour"].get(d, 0) for d in days]),
                    ("day", [per["day"].get(d, 0) for d in days]),
                    ("week", [week[d] for d in days]),
                )
            ],
        ]
        print(common.table(["a day", "tokens", "times fewer"], rows))
        after, after_s = window()
        facts = plant_needles(args.days).facts
        found = 0
        for fact, _ in facts:
            w, _ = window(query=fact.query)
            found += fact.answer in w.text
        shapes = [
            ["without digests (counts)", before.tokens, f"{before_s:.1f}", *_window_shape(before.text).values()],
            ["with digests", after.tokens, f"{after_s:.1f}", *_window_shape(after.text).values()],
        ]
        print(f"\nwindows over {len(days)} days at a budget of {args.budget:,}:\n")
        print(common.table(["window", "tokens", "s", "days shown", "in full", "as digests", "as counts"], shapes))
        print(f"\nneedles found with --query (BM25), digests made: {found} of {len(facts)}")
    finally:
        store.close()


def by_model(store: Store, gguf: str, hours: int) -> None:
    """The newest ``hours`` hours written by the local model (``digest_model = local``), timed."""
    model = from_settings(Settings(digest_model="local", digest_gguf=gguf))
    assert model is not None and model.server is not None
    tok = get_tokenizer(DEFAULT_TOKENIZER)
    with store.read() as r:
        due = sorted(r.digests_due(None, model.id), reverse=True)[:hours]
    made = []
    try:
        with common.timed() as load:
            model.server.start()  # (a chunked model is joined into the cache first, once)
        pid = model.server.pid
        loaded = common.cpu_seconds(pid) or 0.0
        with common.timed() as cost:
            for hour, basis in due:
                with store.read() as r:
                    material = r.digest_material(hour, basis)
                made.append(hour_digest(material, tok, model))
            server = (common.cpu_seconds(pid) or 0.0) - loaded
    finally:
        model.close()
    n = len(made) or 1
    print(
        f"{model.id} ({model.server.gguf}): started in {load['wall']:.1f} s wall, {loaded:.1f} s CPU; "
        f"{len(made)} hours digested, {sum(d.model == model.id for d in made)} kept the model's text\n"
    )
    rows = [
        ["server (nice 19, one thread)", round(server / n, 1)],
        ["this process", round(cost["cpu"] / n, 2)],
        ["total", round((server + cost["cpu"]) / n, 1)],
        ["wall", round(cost["wall"] / n, 1)],
    ]
    print(common.table(["per digested hour", "s"], rows))
    for d in made[:2]:
        print(f"\n{d.start:%Y-%m-%d %H:%M} ({d.model}, {d.tokens} tokens):\n{d.text}")


if __name__ == "__main__":
    main()
