"""A background thread of the owner's (the embedder, the hour summariser): started once, run
until :meth:`Background.stop`, which sets an event the thread waits on between passes."""

from __future__ import annotations

import threading


class Background:
    """Subclasses set ``thread_name`` and write ``_run``, waiting on ``self._stop``."""

    thread_name = "lifelog-background"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _start_thread(self):
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        raise NotImplementedError

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
