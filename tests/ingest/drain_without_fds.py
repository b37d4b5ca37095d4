"""A frame drain in a process that has run out of file descriptors, then got them back:

    python -m tests.ingest.drain_without_fds HOME

Prints one JSON line: what each drain did and where the spooled frame was in between. Run as a
child so that lowering RLIMIT_NOFILE and using up every descriptor touches nothing else."""

from __future__ import annotations

import json
import logging
import os
import resource
import sys
from pathlib import Path

from lifelog import spool
from lifelog.ingest import frames as frame_pipeline
from lifelog.ingest.frames import Pipeline
from lifelog.paths import Paths
from lifelog.store import Store
from lifelog.tokenize_media.ocr import get_engine
from tests.support.pages import PROSE, WIDTH, render
from tests.support.spooled import T0, spool_frame


def use_up_fds() -> list[int]:
    """Every descriptor left, held open (EMFILE for whoever asks next)."""
    held = []
    while True:
        try:
            held.append(os.open("/dev/null", os.O_RDONLY))
        except OSError:
            return held


def main(home: str) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
    frame_pipeline.UNAVAILABLE_RETRY_S = 0.0
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    paths = Paths(Path(home)).ensure()
    store = Store(paths.db)
    store.migrate()
    page = render(PROSE[1:2], height=80).image
    pipe = Pipeline(store, paths, engine=get_engine()).acquire()
    spool_frame(paths, T0, page, (0, 0, WIDTH, page.shape[0]), True)
    pipe.drain()  # the engine and the database are open before the descriptors run out
    frame = spool_frame(paths, T0.replace(second=5), page[:, ::-1].copy(), (0, 0, WIDTH, page.shape[0]), True)
    held = use_up_fds()
    starved = [pipe.drain().frames for _ in range(3)]
    for fd in held:
        os.close(fd)
    waiting = [p.name for p in spool.pending(paths.spool)]
    bad = sorted(p.name for p in (paths.spool / "bad").glob("*")) if (paths.spool / "bad").exists() else []
    stats = pipe.drain()
    pipe.release()
    with store.read() as r:
        stored = len(r.frames_between(None, None))
    print(
        json.dumps(
            {
                "held": len(held),
                "starved": starved,
                "waiting": waiting,
                "frame": frame.name,
                "bad": bad,
                "after": stats.frames,
                "stored": stored,
                "left": [p.name for p in spool.pending(paths.spool)],
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
