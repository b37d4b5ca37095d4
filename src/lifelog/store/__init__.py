"""The timeline store: every SQL string and the only DuckDB connection code in lifelog.

Other layers use :class:`Store` (``read()`` / ``write()`` / ``migrate()``) and the
:class:`Reader` / :class:`Writer` it yields. ``db.py`` documents how one DuckDB file is
shared between the recorder and concurrent readers in other processes.
"""

from lifelog.store import sealed as _sealed  # noqa: F401  installs the spool's sealing (spool/sealing.py)
from lifelog.store.reader import Reader
from lifelog.store.store import Store
from lifelog.store.writer import Writer

__all__ = ["Reader", "Store", "Writer"]
