"""The owner summarises hours: when it opens the file, then every few minutes a few minutes
behind the clock (``daemon/hours.py``). A real owner store on a real file."""

from __future__ import annotations

from datetime import timedelta

from lifelog.daemon.hours import HourSummariser
from lifelog.store import Store, hours
from tests.store.hour_timeline import DAY0, assert_reads_match, timeline
from tests.support.wait import wait_for


def test_the_owner_summarises_at_open_and_then_follows_the_clock(tmp_path):
    db = tmp_path / "home" / "lifelog.duckdb"
    seen, heard = timeline(days=2)
    first_day = [r for r in seen if r[0] < DAY0 + timedelta(days=1)]
    with Store(db).write() as w:  # written while no owner ran (lifelog import)
        w.merge_rows("seen", first_day)
    owner = Store.open_owner(db)
    try:
        with owner.read() as r:
            assert hours.watermark(r._con) == hours.hour_of(max(row[0] for row in first_day))
        with owner.write() as w:  # the second day, recorded with the owner running
            w.merge_rows("seen", [r for r in seen if r[0] >= DAY0 + timedelta(days=1)])
            w.merge_rows("heard", heard)
        clock = [DAY0 + timedelta(days=1, hours=12, minutes=3)]
        summariser = HourSummariser(owner, interval_s=0.05, now=lambda: clock[0])
        assert summariser.run_once() == DAY0 + timedelta(days=1, hours=11)  # 12:00 settles at 12:05
        clock[0] += timedelta(minutes=10)
        summariser.start()
        try:
            wait_for(
                lambda: summariser.watermark == DAY0 + timedelta(days=1, hours=12),
                timeout=30,
                what="the summariser to settle 12:00",
                interval=0.05,
            )
        finally:
            summariser.stop()
        with owner.read() as r:
            assert_reads_match(r, None, None)
            assert_reads_match(r, DAY0 + timedelta(hours=9, minutes=30), DAY0 + timedelta(days=1, hours=13))
    finally:
        owner.close()
