"""What encryption at rest costs (issue 15): writes and a 1M-token context window, plaintext
and encrypted side by side in one run on the same generated timeline.

    .venv/bin/python bench/encryption.py [--dir DIR] [--days 30] [--runs 5] [--batches 200] [--seed 1]

1. Generates ``--days`` days (``gen_timeline.build``, no search index: windows without a query
   never read it) into ``DIR/plain`` and brings its hour summaries up to date, copies the folder
   to ``DIR/encrypted`` and converts that copy with ``store.convert.encrypt`` (timed: the cost
   of ``lifelog encrypt`` on a month).
2. A 1M-token window over the whole timeline (``build_context`` through a short-lived
   ``Store`` read in a fresh process, as ``lifelog context`` does without an owner; the child
   of ``context_scale.py``), ``--runs`` times each, plaintext and encrypted alternating so
   that load on the machine falls on both alike: median build s (the call, reading the rows
   included) and process s (interpreter, imports, unwrapping the key, opening, building).
3. Write batches as the recorder writes them (2 frames x 35 OCR lines + an event, one
   transaction) into each timeline: through an owner's long-lived connection
   (``Store.open_owner``, the daemon and ``lifelog record``) and through short-lived ones
   (open, write, commit, close: ``lifelog process`` / ``import`` with no owner), alternating.
4. Sealing a frame file: AES-GCM on a 60 KiB and a 600 KiB blob (per call).

Prints a Markdown table on stdout; progress on stderr. Goal: encrypted <= 10 % slower.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import common

BENCH = common.BENCH
import context_scale

PASSPHRASE = "bench passphrase"


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def prepare(root: Path, days: int, seed: int) -> tuple[dict, dict, float]:
    """The plaintext timeline, its encrypted copy, and the seconds ``encrypt`` took."""
    from lifelog.paths import Paths
    from lifelog.store import convert

    plain = context_scale.timeline(root / "plain", days, seed, search_index=False)
    if not (root / "plain" / ".summarised").exists():
        context_scale.summarised(plain)
        (root / "plain" / ".summarised").touch()
    enc_home = root / "encrypted"
    shutil.rmtree(enc_home, ignore_errors=True)
    shutil.copytree(root / "plain", enc_home)
    log("encrypting the copy")
    t = time.perf_counter()
    report = convert.encrypt(Paths(enc_home), PASSPHRASE)
    took = time.perf_counter() - t
    log(f"  {sum(report['rows'].values()):,} rows in {took:.1f} s")
    return plain, {**plain, "db": str(enc_home / "lifelog.duckdb")}, took


def windows(plain: dict, enc: dict, runs: int) -> dict[str, list[dict]]:
    spec = {
        "kind": "window",
        "since": plain["start"],
        "until": (datetime.fromisoformat(plain["end"]) + timedelta(minutes=1)).isoformat(),
        "budget": 1_000_000,
    }
    out: dict[str, list[dict]] = {"plain": [], "encrypted": []}
    for i in range(runs):
        for name, meta in (
            (("plain", plain), ("encrypted", enc)) if i % 2 == 0 else (("encrypted", enc), ("plain", plain))
        ):
            r = context_scale.run_child({**spec, "db": meta["db"]})
            out[name].append(r)
            log(f"  1M window {name}: build {r['build_s']} s, process {r['process_s']} s, {r['tokens']:,} tokens")
    return out


def _batch(store, at: datetime, i: int) -> None:
    from lifelog.models import FrameRecord, OcrLine

    with store.write() as w:
        for f in range(2):
            ts = at + timedelta(seconds=i + f / 2)
            fid = w.add_frame(
                FrameRecord(
                    ts=ts,
                    monitor=0,
                    width=1920,
                    height=1080,
                    app="Firefox",
                    window="x",
                    image_ref="",
                    region=(0, 0, 1920, 1080),
                    keyframe=False,
                )
            )
            lines = [OcrLine(f"static line {k}", (0, 25 * k, 100, 25 * k + 20)) for k in range(30)]
            lines += [OcrLine(f"changing {i} {f} {k}", (0, 800 + 25 * k, 100, 820 + 25 * k)) for k in range(5)]
            w.observe_lines(fid, ts, 0, "Firefox", "x", lines)
        w.add_event(ts, "tick")


def writes(plain: dict, enc: dict, batches: int) -> dict[str, dict[str, list[float]]]:
    from lifelog.store import Store

    after = datetime.fromisoformat(plain["end"]) + timedelta(hours=1)
    times: dict[str, dict[str, list[float]]] = {"owner": {}, "short-lived": {}}
    short = max(min(20, batches), batches // 5)  # 40 at the default 200; --quick's 5 stay 5
    for mode, n in (("owner", batches), ("short-lived", short)):
        stores = {}
        for name, meta in (("plain", plain), ("encrypted", enc)):
            stores[name] = Store.open_owner(Path(meta["db"])) if mode == "owner" else Store(Path(meta["db"]))
            _batch(stores[name], after, -1)  # warm
            times[mode][name] = []
        for i in range(n):
            for name in ("plain", "encrypted") if i % 2 == 0 else ("encrypted", "plain"):
                t = time.perf_counter()
                _batch(stores[name], after + timedelta(minutes=1 if mode == "owner" else 30), i)
                times[mode][name].append(time.perf_counter() - t)
        for s in stores.values():
            s.close()
        log(f"  {mode}: " + ", ".join(f"{k} {statistics.median(v) * 1000:.1f} ms" for k, v in times[mode].items()))
    return times


def sealing() -> dict[str, float]:
    from lifelog.store import sealed

    key, out = os.urandom(32), {}
    for size in (60 * 1024, 600 * 1024):
        blob = os.urandom(size)
        t = time.perf_counter()
        for _ in range(200):
            sealed.unseal(sealed.seal(blob, key), key)
        out[f"{size // 1024} KiB"] = (time.perf_counter() - t) / 200 * 1000
    return out


def slower(a: float, b: float) -> str:
    return f"{(b / a - 1) * 100:+.1f} %"


def report(meta: dict, took: float, win: dict, wr: dict, seal: dict) -> None:
    med = lambda rows, key: statistics.median(r[key] for r in rows)
    print(
        f"Timeline: {meta['days']} generated days, {meta['spans']:,} spans; `encrypt` converted it in {took:.1f} s.\n"
    )
    print("| case | plaintext | encrypted | encrypted vs plaintext |")
    print("|---|---|---|---|")
    for key, label in (
        ("build_s", "1M-token window: build_context s"),
        ("process_s", "1M-token window: whole process s"),
    ):
        a, b = med(win["plain"], key), med(win["encrypted"], key)
        print(f"| {label} (median of {len(win['plain'])}) | {a:.3f} | {b:.3f} | {slower(a, b)} |")
    for mode, label in (
        ("owner", "write batch, owner connection, ms"),
        ("short-lived", "write batch, open..close, ms"),
    ):
        a, b = (statistics.median(wr[mode][k]) * 1000 for k in ("plain", "encrypted"))
        print(f"| {label} (median of {len(wr[mode]['plain'])}) | {a:.1f} | {b:.1f} | {slower(a, b)} |")
    for size, ms in seal.items():
        print(f"| sealing + opening a {size} frame file, ms | - | {ms:.3f} | |")
    tokens = {r["tokens"] for r in win["plain"] + win["encrypted"]}
    print(f"\nWindow tokens: {sorted(tokens)} (the same bytes either way).")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, help="keep (or reuse) the plaintext timeline here")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batches", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = common.parse(
        ap, quick={"days": 1, "runs": 1, "batches": 5, "dir": lambda: common.scratch("encryption")}, argv=argv
    )
    os.environ["LIFELOG_PASSPHRASE"] = PASSPHRASE  # the children unwrap the key as a command would
    root = args.dir or Path(tempfile.mkdtemp(prefix="lifelog-bench-enc-"))
    plain, enc, took = prepare(root, args.days, args.seed)
    log("1M-token windows")
    win = windows(plain, enc, args.runs)
    log("write batches")
    wr = writes(plain, enc, args.batches)
    report(plain, took, win, wr, sealing())
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
