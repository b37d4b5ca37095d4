"""An owner serving a home's timeline on its socket from the test's own process, as
``lifelog daemon run`` serves it (without recording)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from lifelog.api.server import OwnerServer
from lifelog.api.timeline import LocalTimeline
from lifelog.daemon.ownership import OwnerLock
from lifelog.paths import Paths
from lifelog.store import Store


@contextlib.contextmanager
def served(paths: Paths) -> Iterator[Store]:
    """Serve ``paths``' timeline until the block ends; yields the owner's store."""
    lock = OwnerLock(paths, "test")
    store = Store.open_owner(paths.db)
    server = OwnerServer(paths, LocalTimeline(paths, store), lock.info).start()
    try:
        yield store
    finally:
        server.stop()
        store.close()
        lock.release()
