"""The owner's hour summariser: every few minutes, the hours that ended are summarised for
outlines and costs (``store/hours.py``), so the watermark follows the recording a few
minutes behind.

A pass is one short write through the store (serialised with the recorder's writes): the
hour that just ended, about 10,000 lines, aggregates in tens of milliseconds. A failed pass
is logged and tried again at the next; reads stay exact meanwhile (the hours after the
watermark are read from the lines).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from lifelog.daemon.background import Background
from lifelog.errors import LifelogError

log = logging.getLogger(__name__)

INTERVAL_S = 180.0  # between passes


class HourSummariser(Background):
    """Moves the owner's watermark forward every ``interval_s`` until :meth:`stop`."""

    thread_name = "lifelog-hours"

    def __init__(self, store, *, interval_s: float = INTERVAL_S, now: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.interval_s = interval_s
        self.now = now  # a clock for tests; None: the wall clock
        self.watermark: datetime | None = None
        super().__init__()

    def start(self) -> HourSummariser:
        return self._start_thread()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.run_once()

    def run_once(self) -> datetime | None:
        try:
            with self.store.write() as w:
                self.watermark = w.summarise_hours(self.now() if self.now else None)
        except LifelogError as exc:  # a busy or failing store: try again next pass
            log.warning("summarising hours failed: %s", exc)
        except Exception:  # never fatal to the owner
            log.exception("summarising hours failed")
        return self.watermark
