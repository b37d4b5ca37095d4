"""Screen grabbing behind a small interface, so tests and other platforms can supply their own."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from lifelog.errors import CaptureUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Monitor:
    index: int  # 1-based, as mss numbers them
    left: int
    top: int
    width: int
    height: int


@dataclass
class Shot:
    """Raw pixels of one monitor: BGRA bytes, row-major, ``width * 4`` bytes a row."""

    raw: bytearray
    width: int
    height: int


class Grabber(Protocol):
    def monitors(self) -> list[Monitor]: ...

    def grab(self, monitor: Monitor) -> Shot: ...

    def close(self) -> None: ...


class MssGrabber:
    """Grabs through mss (X11, macOS, Windows). Create it in the thread that uses it."""

    def __init__(self, display: str | None = None) -> None:
        try:
            import mss

            # display None: $DISPLAY
            self._mss = mss.MSS(display=display) if hasattr(mss, "MSS") else mss.mss(display=display)
        except Exception as exc:  # mss raises ScreenShotError or a ctypes/X error
            raise CaptureUnavailable(
                f"Cannot capture the screen: {_first_line(exc)}. Check DISPLAY and screen-recording permission."
            ) from exc

    def monitors(self) -> list[Monitor]:
        return [
            Monitor(i, m["left"], m["top"], m["width"], m["height"]) for i, m in enumerate(self._mss.monitors) if i > 0
        ]

    def grab(self, monitor: Monitor) -> Shot:
        area = {"left": monitor.left, "top": monitor.top, "width": monitor.width, "height": monitor.height}
        shot = self._mss.grab(area)
        return Shot(shot.raw, shot.width, shot.height)

    def close(self) -> None:
        self._mss.close()


def select_monitors(all_monitors: list[Monitor], wanted: int | None) -> list[Monitor]:
    if wanted is None:
        return all_monitors
    for m in all_monitors:
        if m.index == wanted:
            return [m]
    valid = ", ".join(str(m.index) for m in all_monitors)
    raise CaptureUnavailable(f"No monitor {wanted}; this screen has monitor(s) {valid}.")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
