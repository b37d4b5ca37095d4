"""Where the spool's bytes are sealed when the timeline is encrypted.

Spooled frames (a PNG whose metadata holds window titles) and audio chunks (WAV) are sealed
with AES-GCM like the stored files, but the spool sits below the store, which holds the keys:
so the store installs its sealer here (``lifelog.store.sealed`` does on import; the capture
child imports it with the keys its owner sent), and until then spool files are plain.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO


class _Plain:
    """No sealing: bytes go to the file as they are."""

    @contextlib.contextmanager
    def writer(self, raw: BinaryIO) -> Iterator[BinaryIO]:
        yield raw

    def open(self, path: Path) -> Any:
        return str(path)  # Image.open and wave.open take a path


_PLAIN = _Plain()
_factory: Callable[[Path], Any] = lambda _folder: _PLAIN  # noqa: E731


def install(factory: Callable[[Path], Any]) -> None:
    """``factory(folder)`` gives what seals and opens the files of ``folder`` (see ``store.sealed.Sealer``)."""
    global _factory
    _factory = factory


def for_folder(folder: Path) -> Any:
    """An object with ``writer(raw)`` (a context giving the handle to write to) and ``open(path)``."""
    return _factory(Path(folder))
