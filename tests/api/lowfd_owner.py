"""A real owner for tests, with its open-file limit lowered, until its stdin closes:

    python -m tests.api.lowfd_owner HOME NOFILE MAX_CONNECTIONS

prints its socket's path once it serves; logs (warnings) go to stderr."""

from __future__ import annotations

import logging
import resource
import sys
from pathlib import Path

from lifelog.api.guard import Limits
from lifelog.paths import Paths
from tests.api.rawhttp import serving


def main(home: str, nofile: str, max_connections: str) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (int(nofile), hard))
    limits = Limits(max_connections=int(max_connections), header_timeout_s=1.0, body_idle_s=1.0)
    with serving(Paths(Path(home)).ensure(), limits) as server:
        print(server.socket, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main(*sys.argv[1:])
