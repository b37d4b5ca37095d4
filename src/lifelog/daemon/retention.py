"""The owner's retention pass: at start, then every ``interval_s`` (10 minutes), the ``keep_*``
ages and the ``storage_max`` budget take back what they name (``store/retention.py``).

The thread runs at nice 19 and works in slices of a few thousand rows, one short transaction
each, so the recorder's writes wait milliseconds for it at most. Settings are read again from
``config.toml`` before each pass, so ``lifelog config set keep_images 30d`` applies without a
restart (a broken file keeps the settings the owner started with). A failed pass is logged
and tried again at the next; the last pass's report is in the timeline for ``lifelog status``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from lifelog.config import Settings, load_settings
from lifelog.daemon.background import Background
from lifelog.daemon.supervisor import lower_this_thread
from lifelog.errors import LifelogError
from lifelog.paths import Paths
from lifelog.store import retention
from lifelog.store.usage import FolderSizes

log = logging.getLogger(__name__)

INTERVAL_S = 600.0  # between passes
RETENTION_NICE = 19  # the lowest priority, like the embedder


class RetentionWorker(Background):
    """Runs a retention pass at start and every ``interval_s`` until :meth:`stop`."""

    thread_name = "lifelog-retention"

    def __init__(
        self,
        store,
        paths: Paths,
        settings: Settings,
        *,
        interval_s: float = INTERVAL_S,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.paths = paths
        self.settings = settings
        self.interval_s = interval_s
        self.now = now  # a clock for tests; None: the wall clock
        self.report: retention.Report | None = None
        self._sizes = FolderSizes()  # day folders walked again only when they changed
        super().__init__()

    def start(self) -> RetentionWorker:
        return self._start_thread()

    def _run(self) -> None:
        lower_this_thread(RETENTION_NICE)
        self.run_once()
        while not self._stop.wait(self.interval_s):
            self.run_once()

    def policy(self) -> retention.Policy:
        try:
            self.settings = load_settings(self.paths.config_file)
        except LifelogError as exc:
            log.warning("retention keeps the settings it started with: %s", exc)
        return retention.Policy.from_settings(self.settings)

    def run_once(self) -> retention.Report | None:
        try:
            policy = self.policy()
            report = retention.run_pass(
                self.store,
                self.paths,
                policy,
                now=self.now() if self.now else None,
                sizes=self._sizes,
                should_stop=self._stop.is_set,
            )
        except LifelogError as exc:  # a busy or failing store: try again next pass
            log.warning("retention pass failed: %s", exc)
            return None
        except Exception:  # never fatal to the owner
            log.exception("retention pass failed")
            return None
        self.report = report
        if report.removed_anything():
            log.info(
                "retention removed %d frame images (%d by thinning), %d audio files, %d lines seen and %d heard;"
                " %.1f MB freed",
                report.images,
                report.thinned,
                report.audio,
                report.spans,
                report.transcripts,
                report.bytes_freed / 1e6,
            )
        if report.over_budget:
            log.warning(
                "the data folder holds %.1f MB, over storage_max (%.1f MB), with only the newest day left",
                report.usage / 1e6,
                report.budget / 1e6,
            )
        return report
