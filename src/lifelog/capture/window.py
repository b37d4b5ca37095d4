"""Which application and window have focus, and which windows are visible where. X11 today;
other platforms plug in here.

A ``WindowSource`` has ``active()`` (the focused window) and ``visible()`` (every window shown,
topmost first, with its rectangle), which lets OCR say which window each line was read from.
Failures are never fatal: an unknown window is an empty ``WindowInfo``, an unknown stacking an
empty list.

Other platforms: macOS lists on-screen windows front to back with their bounds, owner (app)
and title through ``CGWindowListCopyWindowInfo(kCGWindowListOptionOnScreenOnly, ...)`` (the
title needs the screen-recording permission capture already needs); Windows walks top-level
windows in Z order with ``EnumWindows`` (``IsWindowVisible``, ``GetWindowText``, the process's
executable for the app) and takes the visible bounds from ``DwmGetWindowAttribute(...,
DWMWA_EXTENDED_FRAME_BOUNDS)``, skipping cloaked windows (``DWMWA_CLOAKED``). Neither is
implemented yet: their frames carry the focused window only.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Protocol

from lifelog.models import Box, VisibleWindow, WindowInfo

log = logging.getLogger(__name__)


class WindowSource(Protocol):
    def active(self) -> WindowInfo: ...

    def visible(self) -> list[VisibleWindow]: ...


class NoWindowSource:
    """For platforms without a window source yet (macOS, Windows): frames carry no app/title."""

    def active(self) -> WindowInfo:
        return WindowInfo()

    def visible(self) -> list[VisibleWindow]:
        return []


class X11WindowSource:
    """Reads _NET_ACTIVE_WINDOW (EWMH window managers) or, without a window manager, the
    input focus; the app is the WM_CLASS class name, the title _NET_WM_NAME or WM_NAME.

    Visible windows come from _NET_CLIENT_LIST_STACKING (the window manager's clients, bottom
    to top) or, without a window manager, the root's children (the X server's stacking
    order); each mapped window's rectangle is its client area in root coordinates."""

    def __init__(self, display: str | None = None) -> None:
        from Xlib import display as xdisplay

        self._d = xdisplay.Display(display)
        self._root = self._d.screen().root
        self._atoms = {
            name: self._d.intern_atom(name)
            for name in ("_NET_ACTIVE_WINDOW", "_NET_CLIENT_LIST_STACKING", "_NET_WM_NAME", "UTF8_STRING")
        }
        self._classes: dict[int, str] = {}  # WM_CLASS per window id: it does not change

    def active(self) -> WindowInfo:
        try:
            win = self._focused()
            return self._describe(win) if win is not None else WindowInfo()
        except Exception as exc:  # X errors on windows that vanish mid-query
            log.debug("active window lookup failed: %s", exc)
            return WindowInfo()

    def visible(self) -> list[VisibleWindow]:
        """The mapped windows, topmost first, with their rectangles in root coordinates."""
        try:
            stacking = self._stacking()
        except Exception as exc:
            log.debug("window stacking unknown: %s", exc)
            return []
        out = []
        for win in reversed(stacking):
            try:
                shown = self._shown(win)
            except Exception as exc:  # X errors on windows that vanish mid-query
                log.debug("window %s skipped: %s", getattr(win, "id", win), exc)
                continue
            if shown is not None:
                out.append(shown)
        return out

    def _stacking(self) -> list:
        """Client windows bottom to top: the window manager's list, else the root's children."""
        prop = self._root.get_full_property(self._atoms["_NET_CLIENT_LIST_STACKING"], 0)
        if prop is not None and len(prop.value):
            return [self._d.create_resource_object("window", int(w)) for w in prop.value]
        return list(self._root.query_tree().children)

    def _shown(self, win) -> VisibleWindow | None:
        from Xlib import X

        attrs = win.get_attributes()
        if attrs.map_state != X.IsViewable or attrs.win_class != X.InputOutput:
            return None
        geometry = win.get_geometry()
        if geometry.width <= 1 or geometry.height <= 1:
            return None
        origin = self._root.translate_coords(win, 0, 0)
        box: Box = (origin.x, origin.y, origin.x + geometry.width, origin.y + geometry.height)
        client = self._client(win)
        app = self._app(client)
        title = self._title(client)
        if not app and not title:
            return None
        return VisibleWindow(app, title, box)

    def _client(self, win):
        """The window carrying WM_CLASS: ``win`` itself or, under a window manager that frames
        clients without EWMH, a child of its frame."""
        if self._app(win):
            return win
        for child in win.query_tree().children:
            if self._app(child):
                return child
        return win

    def _app(self, win) -> str:
        if win.id not in self._classes:
            if len(self._classes) > 4096:
                self._classes.clear()
            cls = win.get_wm_class()
            self._classes[win.id] = (cls[1] or cls[0]) if cls else ""
        return self._classes[win.id]

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
