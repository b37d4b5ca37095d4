"""One front door to the timeline, for the CLI and every other client (MCP, export, replay).

:func:`open_timeline` returns a :class:`~lifelog.api.timeline.Timeline`: when an owner runs
(``lifelog daemon run`` or ``lifelog record``), a client that asks it over its Unix socket
(``lifelog.sock`` in the data folder, mode 0600, HTTP; see ``protocol.py``); otherwise a local
one that opens the DuckDB file itself for each call. Both answer the same calls (declared once,
in ``calls.py``) with the same plain data, so no caller knows or cares which it got.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifelog.api.timeline import Timeline

if TYPE_CHECKING:
    from lifelog.config import Settings
    from lifelog.paths import Paths

__all__ = ["Timeline", "open_timeline"]


def open_timeline(paths: Paths, settings: Settings) -> Timeline:
    """The owner's timeline over its socket when one runs, else this process's own."""
    from lifelog.api.client import find_owner

    remote = find_owner(paths)
    if remote is not None:
        return remote
    from lifelog.api.timeline import LocalTimeline
    from lifelog.store import Store

    return LocalTimeline(paths, Store(paths.db, busy_timeout=settings.busy_timeout_s))
