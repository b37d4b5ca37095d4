"""One front door to the timeline, for the CLI and every other client (MCP, export, replay).

:func:`open_timeline` returns a :class:`~lifelog.api.timeline.Timeline`: when an owner runs
(``lifelog daemon run`` or ``lifelog record``), a client that asks it over its Unix socket
(``lifelog.sock`` in the data folder, mode 0600, HTTP; see ``protocol.py``); otherwise a local
one that opens the DuckDB file itself for each call. Both answer the same calls with the same
plain data, so no caller knows or cares which it got.
"""

from lifelog.api.timeline import Timeline, open_timeline

__all__ = ["Timeline", "open_timeline"]
