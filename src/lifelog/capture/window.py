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
from dataclasses import dataclass
from typing import Protocol

from lifelog.models import Box, VisibleWindow, WindowInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopWindow:
    """A top-level window as the X server stacks it: ``box`` is its outer rectangle (frame and
    decorations, where the title bar shows the title) and ``client_box`` the application's area,
    both in root coordinates. ``id`` is the client window's; ``transient_for`` the client it is a
    dialog of; ``override_redirect`` marks menus and tooltips no window manager knows of."""

    id: int
    box: Box
    client_box: Box
    app: str = ""  # WM_CLASS class
    instance: str = ""  # WM_CLASS instance
    title: str = ""
    pid: int = 0  # _NET_WM_PID, 0 if unknown
    transient_for: int = 0
    override_redirect: bool = False
    focused: bool = False
    opaque: bool = True  # False for a window with an alpha channel (32-bit depth): what lies below shows

    def visible(self) -> VisibleWindow:
        return VisibleWindow(self.app or self.instance, self.title, self.client_box)


class WindowSource(Protocol):
    def active(self) -> WindowInfo: ...

    def visible(self) -> list[VisibleWindow]: ...

    def stack(self) -> list[TopWindow]: ...


class NoWindowSource:
    """For platforms without a window source yet (macOS, Windows): frames carry no app/title."""

    def active(self) -> WindowInfo:
        return WindowInfo()

    def visible(self) -> list[VisibleWindow]:
        return []

    def stack(self) -> list[TopWindow]:
        return []


class X11WindowSource:
    """Reads _NET_ACTIVE_WINDOW (EWMH window managers) or, without a window manager, the
    input focus; the app is the WM_CLASS class name, the title _NET_WM_NAME or WM_NAME.

    Visible windows come from the root's children (the X server's stacking order, window-manager
    frames and override-redirect popups alike), each resolved to the client window inside it;
    a visible window's rectangle is its client area in root coordinates (``stack()`` gives the
    outer one too, which exclusions blank)."""

    def __init__(self, display: str | None = None) -> None:
        from Xlib import display as xdisplay

        self._d = xdisplay.Display(display)
        self._root = self._d.screen().root
        self._atoms = {
            name: self._d.intern_atom(name)
            for name in (
                "_NET_ACTIVE_WINDOW",
                "_NET_CLIENT_LIST_STACKING",
                "_NET_WM_NAME",
                "_NET_WM_PID",
                "UTF8_STRING",
            )
        }
        self._clients: dict[int, object] = {}  # the client window inside each top-level window
        self._identities: dict[int, tuple[str, str, int, int]] = {}  # WM_CLASS, pid, transient-for

    def active(self) -> WindowInfo:
        try:
            win = self._focused()
            return self._describe(win) if win is not None else WindowInfo()
        except Exception as exc:  # X errors on windows that vanish mid-query
            log.debug("active window lookup failed: %s", exc)
            return WindowInfo()

    def visible(self) -> list[VisibleWindow]:
        """The mapped windows, topmost first, with their client rectangles in root coordinates."""
        try:
            return [w.visible() for w in self.stack() if w.app or w.instance or w.title]
        except Exception as exc:
            log.debug("window stacking unknown: %s", exc)
            return []

    def stack(self) -> list[TopWindow]:
        """Every viewable top-level window, topmost first: the root's children in the X server's
        stacking order, so window-manager frames and override-redirect popups (menus, tooltips,
        absent from _NET_CLIENT_LIST_STACKING) are ordered as they are drawn. A window that
        vanishes mid-query is left out; a lost display raises."""
        from Xlib.error import XError

        focus = self._focus_chain()
        out = []
        for top in reversed(self._root.query_tree().children):
            try:
                shown = self._top(top, focus)
            except XError as exc:  # the window vanished mid-query
                log.debug("window %s skipped: %s", top.id, exc)
                continue
            if shown is not None:
                out.append(shown)
        return out

    def _top(self, top, focus: set[int]) -> TopWindow | None:
        from Xlib import X

        attrs = top.get_attributes()
        if attrs.map_state != X.IsViewable or attrs.win_class != X.InputOutput:
            return None
        g = top.get_geometry()
        if g.width <= 1 or g.height <= 1:
            return None
        edge = 2 * g.border_width
        box: Box = (g.x, g.y, g.x + g.width + edge, g.y + g.height + edge)
        client = self._client(top)
        bw = g.border_width  # the client area lies inside the border, as translate_coords says
        inner, depth = (g.x + bw, g.y + bw, g.x + bw + g.width, g.y + bw + g.height), g.depth
        if client.id != top.id:
            cg = client.get_geometry()
            origin = self._root.translate_coords(client, 0, 0)
            inner, depth = (origin.x, origin.y, origin.x + cg.width, origin.y + cg.height), max(depth, cg.depth)
        app, instance, pid, transient = self._identity(client)
        return TopWindow(
            client.id,
            box,
            inner,
            app,
            instance,
            self._title(client),
            pid,
            transient,
            bool(attrs.override_redirect),
            bool({client.id, top.id} & focus),
            depth < 32,
        )

    def _client(self, top):
        """The window carrying WM_CLASS: ``top`` itself or, under a reparenting window manager,
        a window inside its frame (openbox puts it two levels down). Remembered per frame."""
        if top.id not in self._clients:
            if len(self._clients) > 4096:
                self._clients.clear()
            self._clients[top.id] = self._find_client(top, depth=3) or top
        return self._clients[top.id]

    def _find_client(self, win, depth: int):
        if win.get_wm_class():
            return win
        if depth == 0:
            return None
        for child in win.query_tree().children:
            found = self._find_client(child, depth - 1)
            if found is not None:
                return found
        return None

    def _identity(self, client) -> tuple[str, str, int, int]:
        """(class, instance, pid, transient-for id) of a client: set before it maps, so read once."""
        if client.id not in self._identities:
            if len(self._identities) > 4096:
                self._identities.clear()
            cls = client.get_wm_class() or ("", "")
            pid = client.get_full_property(self._atoms["_NET_WM_PID"], 0)
            transient = client.get_wm_transient_for()
            self._identities[client.id] = (
                cls[1] or "",
                cls[0] or "",
                int(pid.value[0]) if pid and len(pid.value) else 0,
                int(getattr(transient, "id", 0) or 0),
            )
        return self._identities[client.id]

    def _focus_chain(self) -> set[int]:
        """The focused window and its ancestors (the focus may be a child of a client)."""
        try:
            win = self._focused()
            ids = set()
            for _ in range(8):
                if win is None or win.id == self._root.id:
                    break
                ids.add(win.id)
                win = win.query_tree().parent
            return ids
        except Exception as exc:
            log.debug("focus unknown: %s", exc)
            return set()

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
