"""Worker processes for the cross-process store tests (run as a script, not collected).

workers.py writer DB BATCHES PERIOD OUT.json  write BATCHES batches, one every PERIOD s, report them
workers.py reader DB STOP_FILE OUT.json read (search, spans, stats) until STOP_FILE exists and it
                                        has read 5 times; says "ready" after its first read
workers.py hold DB SECONDS              hold a read-write connection open for SECONDS
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from lifelog.models import FrameRecord, OcrLine
from lifelog.store import Store

T0 = datetime(2026, 3, 2, 9, 0, 0)


def writer(db: str, batches: str, period: str, out: str) -> None:
    """A count of batches, not a duration: on a loaded machine a batch may take a second."""
    store = Store(Path(db))
    totals = {"batches": 0, "frames": 0, "new_spans": 0, "events": 0, "batch_ms": []}
    i = 0
    while totals["batches"] < int(batches):
        started = time.perf_counter()
        with store.write() as w:
            for _ in range(2):  # two frames a batch, as tokenize_media would at 2 fps
                ts = T0 + timedelta(seconds=i / 2)
                fid = w.add_frame(
                    FrameRecord(
                        ts=ts,
                        monitor=0,
                        width=1920,
                        height=1080,
                        app="Firefox",
                        window="Billing",
                        image_ref=f"frames/{i}.jpg",
                        region=(0, 0, 1920, 1080),
                        keyframe=i % 10 == 0,
                    )
                )
                lines = [OcrLine(f"static header line {k}", (0, 30 * k, 400, 30 * k + 20)) for k in range(8)]
                lines += [
                    OcrLine(f"invoice {4000 + i} total {i * 3}", (0, 300, 400, 320)),
                    OcrLine(f"clock {i // 4}", (0, 330, 400, 350)),
                ]
                new, _ = w.observe_lines(fid, ts, 0, "Firefox", "Billing", lines)
                totals["frames"] += 1
                totals["new_spans"] += new
                i += 1
            w.add_event(ts, "batch", {"n": totals["batches"]})
            totals["events"] += 1
            if totals["batches"] % 10 == 9:
                w.refresh_search_index()
        totals["batches"] += 1
        totals["batch_ms"].append((time.perf_counter() - started) * 1000)
        time.sleep(max(0.0, float(period) - (time.perf_counter() - started)))
    Path(out).write_text(json.dumps(totals))


def reader(db: str, stop_file: str, out: str) -> None:
    store = Store(Path(db))
    report = {"reads": 0, "errors": [], "read_ms": []}
    while not Path(stop_file).exists() or report["reads"] < 5:
        started = time.perf_counter()
        try:
            with store.read() as r:
                r.search("invoice total")
                r.spans_between(T0, T0 + timedelta(hours=1))
                r.stats()
            report["reads"] += 1
            if report["reads"] == 1:
                print("ready", flush=True)
            report["read_ms"].append((time.perf_counter() - started) * 1000)
        except Exception:
            report["errors"].append(traceback.format_exc())
    Path(out).write_text(json.dumps(report))


def hold(db: str, seconds: str) -> None:
    con = duckdb.connect(db)
    print("ready", flush=True)
    time.sleep(float(seconds))
    con.close()


if __name__ == "__main__":
    {"writer": writer, "reader": reader, "hold": hold}[sys.argv[1]](*sys.argv[2:])
