"""Which application and window have focus. X11 today; other platforms plug in here.

A ``WindowSource`` has one method, ``active()``. Failures are never fatal: an unknown
window is reported as an empty ``WindowInfo``.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Protocol

from lifelog.models import WindowInfo

log = logging.getLogger(__name__)


class WindowSource(Protocol):
    def active(self) -> WindowInfo: ...


class NoWindowSource:
    """For platforms without a window source yet (macOS, Windows): frames carry no app/title."""

    def active(self) -> WindowInfo:
        return WindowInfo()


class X11WindowSource:
    """Reads _NET_ACTIVE_WINDOW (EWMH window managers) or, without a window manager, the
    input focus; the app is the WM_CLASS class name, the title _NET_WM_NAME or WM_NAME."""

    def __init__(self, display: str | None = None) -> None:
        from Xlib import display as xdisplay

        self._d = xdisplay.Display(display)
        self._root = self._d.screen().root
        self._atoms = {
            name: self._d.intern_atom(name)
            for name in ("_NET_ACTIVE_WINDOW", "_NET_WM_NAME", "UTF8_STRING")
        }

    def active(self) -> WindowInfo:
        try:
            win = self._focused()
            return self._describe(win) if win is not None else WindowInfo()
        except Exception as exc:  # X errors on windows that vanish mid-query
            log.debug("active window lookup failed: %s", exc)
            return WindowInfo()

    def _focused(self):
        prop = self._root.get_full_property(self._atoms["_NET_ACTIVE_WINDOW"], 0)
        if prop is not None and prop.value and prop.value[0]:
            return self._d.create_resource_object("window", int(prop.value[0]))
        focus = self._d.get_input_focus().focus
        return focus if hasattr(focus, "get_wm_class") else None

    def _describe(self, win) -> WindowInfo:
        # Without a window manager the focus may be a child of the client window: walk up
        # until a window carries WM_CLASS.
        for _ in range(8):
            cls = win.get_wm_class()
            if cls:
                return WindowInfo(app=cls[1] or cls[0], title=self._title(win))
            parent = win.query_tree().parent
            if parent is None or parent.id == self._root.id:
                break
            win = parent
        return WindowInfo(title=self._title(win))

    def _title(self, win) -> str:
        prop = win.get_full_property(self._atoms["_NET_WM_NAME"], self._atoms["UTF8_STRING"])
        if prop is not None and prop.value:
            value = prop.value
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        name = win.get_wm_name()
        return name if isinstance(name, str) else ""

    def close(self) -> None:
        self._d.close()


def open_window_source() -> WindowSource:
    """The best source for this platform; never raises."""
    if sys.platform.startswith("linux") and os.environ.get("DISPLAY"):
        try:
            return X11WindowSource()
        except Exception as exc:
            log.warning("cannot read the active window (X11): %s", exc)
    return NoWindowSource()
