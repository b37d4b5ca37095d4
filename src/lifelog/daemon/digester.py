"""The owner's sleep-time digester: digests of the hours that ended (``replay/digest.py``), made
while the user is idle, at the lowest priority, on one thread.

Every ``interval_s`` the thread catches up on what is due, newest day first, unless ``busy()``
says it is no sleep time (in the owner ``daemon/sleep_time.py``'s rule: capture and OCR first,
always; on AC power any time; on battery only while the user is away). ``busy()`` is asked again
between hours (an hour takes ~0.1-0.3 s), so digesting stops within a second when the screen
changes or the user comes back, and the next pass resumes where it stopped: what is made is
kept, the rest is still due. It runs at nice 19, below capture, OCR, ASR and the API, and never holds the writer
longer than one day's digests take to store. With ``digest_base_url`` and ``digest_model`` set,
the digests are written by that model (``replay/digest_model.py``), each call made outside any
transaction; a model that cannot be reached is tried again at the next pass. With
``digest_model = local`` the model runs here, a child llama.cpp server at nice 19 on one thread,
started when a pass first needs it and stopped when the pass ends (``replay/local_model.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from lifelog.daemon.background import Background
from lifelog.daemon.supervisor import lower_this_thread
from lifelog.errors import LifelogError
from lifelog.replay.digest import Report, catch_up
from lifelog.replay.digest_model import from_settings

log = logging.getLogger(__name__)

DIGEST_NICE = 19
INTERVAL_S = 60.0  # between passes


class DigestWorker(Background):
    """Makes the owner's due digests in a background thread until :meth:`stop`."""

    thread_name = "lifelog-digest"

    def __init__(
        self, store, *, busy: Callable[[], bool] = lambda: False, interval_s: float = INTERVAL_S, settings=None
    ) -> None:
        self.store = store
        self.settings = settings  # digest_base_url / digest_model: written by that model, else extractive
        self.busy = busy
        self.interval_s = interval_s
        self.made = {"hours": 0, "days": 0, "weeks": 0}
        self.last: Report | None = None
        super().__init__()

    def start(self) -> DigestWorker:
        return self._start_thread()

    def info(self) -> dict:
        return {
            **self.made,
            "running": self._thread is not None,
            "stopped_for_work": bool(self.last and self.last.stopped),
        }

    def _run(self) -> None:
        lower_this_thread(DIGEST_NICE)
        try:
            while not self._stop.wait(self.interval_s):
                self.run_once()
        finally:
            close = getattr(self.busy, "close", None)  # (an X connection: closed by the thread that used it)
            if close is not None:
                close()

    def run_once(self) -> Report | None:
        """One pass: nothing while busy, else catch up until done or busy."""
        if self.busy():
            return None
        model = None
        try:
            model = from_settings(self.settings) if self.settings is not None else None
            report = catch_up(self.store, stop=lambda: self._stop.is_set() or self.busy(), model=model)
        except LifelogError as exc:  # a busy or failing store, a model down: try again next pass
            log.warning("digesting failed: %s", exc)
            return None
        except Exception:  # never fatal to the owner
            log.exception("digesting failed")
            return None
        finally:
            if model is not None:
                model.close()  # a local model's server lives for one pass: its memory is not held between
        for key in self.made:
            self.made[key] += getattr(report, key)
        self.last = report
        if report.hours or report.days:
            log.debug("digested %d hours, %d days, %d weeks", report.hours, report.days, report.weeks)
        return report
