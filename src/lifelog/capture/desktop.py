"""Which desktop this is, and how its screen and windows are read: the one place that chooses.

    X11 session (DISPLAY)               mss (``screen.MssGrabber``)            EWMH (``window.X11WindowSource``)
    Wayland: sway                       grim (``wayland.ScreencopyGrabber``)   sway IPC (``wayland.SwayWindowSource``)
    Wayland: Hyprland                   grim                                   Hyprland IPC (``hyprland.py``)
    Wayland: other wlroots (river...)   grim, else the portal                  wlr-foreign-toplevel (``toplevels.py``)
    Wayland: KDE Plasma (KWin)          desktop portal (``portal.py``)         KWin scripting (``kwin.py``)
    Wayland: GNOME                      desktop portal                         lifelog's Shell extension (``gnome.py``)
    neither                             CaptureUnavailable, one line           no window source

``LIFELOG_SCREEN_CAPTURE`` (``mss``, ``screencopy``, ``portal``; ``auto`` by default) picks the
capture path by hand. A Wayland session never falls back to XWayland through ``DISPLAY``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping

from lifelog.capture.screen import Grabber, MssGrabber
from lifelog.capture.wayland import CAPTURE_PATHS, ScreencopyGrabber, Session, SwayWindowSource, session
from lifelog.capture.window import NoWindowSource, WindowSource, X11WindowSource
from lifelog.errors import CaptureUnavailable

log = logging.getLogger(__name__)

__all__ = ["Session", "capture_path", "describe", "open_grabber", "open_window_source", "session"]


def capture_path(environ: Mapping[str, str] = os.environ) -> str:
    """``mss``, ``screencopy``, ``portal`` or ``none``: ``LIFELOG_SCREEN_CAPTURE``, else the session's."""
    chosen = environ.get("LIFELOG_SCREEN_CAPTURE", "auto").strip().lower() or "auto"
    if chosen == "auto":
        return session(environ).capture
    if chosen not in CAPTURE_PATHS:
        raise CaptureUnavailable(
            f"LIFELOG_SCREEN_CAPTURE = {chosen!r}: must be one of auto, {', '.join(CAPTURE_PATHS)}."
        )
    return chosen


def open_grabber(
    environ: Mapping[str, str] = os.environ, fps: float = 2.0, should_stop: Callable[[], bool] = lambda: False
) -> Grabber:
    """The grabber for this session, checked to see a monitor; CaptureUnavailable with a line a
    person can act on otherwise. ``fps`` is the rate a streamed path (the portal) is asked for;
    ``should_stop`` ends a wait for the desktop's permission dialog when it turns true."""
    path = capture_path(environ)
    if path == "none" and sys.platform.startswith("linux"):
        raise CaptureUnavailable(
            "Cannot capture the screen: neither DISPLAY (X11) nor WAYLAND_DISPLAY (Wayland) is set. "
            "Run lifelog inside the desktop session (or set DISPLAY=:0)."
        )
    grabber = _open(path, environ, fps, should_stop)
    try:
        if not grabber.monitors():
            raise CaptureUnavailable("No monitor found to capture.")
    except CaptureUnavailable:
        grabber.close()
        raise
    return grabber


def _open(path: str, environ: Mapping[str, str], fps: float, should_stop: Callable[[], bool]) -> Grabber:
    if path == "portal":
        from lifelog.capture.portal import PortalGrabber

        return PortalGrabber(environ, fps, should_stop=should_stop)
    if path != "screencopy":
        return MssGrabber(environ.get("DISPLAY"))
    try:
        return ScreencopyGrabber(environ)
    except CaptureUnavailable as exc:
        chosen = environ.get("LIFELOG_SCREEN_CAPTURE", "auto") not in ("", "auto")
        if chosen or session(environ).compositor in ("sway", "hyprland"):
            raise
        log.info("wlr-screencopy unavailable (%s); asking the desktop portal", exc)
        from lifelog.capture.portal import PortalGrabber

        return PortalGrabber(environ, fps)


def open_window_source(environ: Mapping[str, str] = os.environ) -> WindowSource:
    """The best window source for this session; never raises (no source: frames carry no app)."""
    current = session(environ)
    try:
        if current.compositor == "sway":
            return SwayWindowSource(environ.get("SWAYSOCK") or environ.get("I3SOCK"))
        if current.compositor == "hyprland":
            from lifelog.capture.hyprland import HyprlandWindowSource

            return HyprlandWindowSource(environ)
        if current.compositor == "kwin":
            from lifelog.capture.kwin import KWinWindowSource

            return KWinWindowSource(environ)
        if current.compositor == "gnome":
            from lifelog.capture.gnome import GnomeWindowSource

            return GnomeWindowSource(environ)
        if current.kind == "wayland":
            from lifelog.capture.toplevels import ForeignToplevelWindowSource

            return ForeignToplevelWindowSource(environ)
        if current.kind == "x11" and sys.platform.startswith("linux"):
            return X11WindowSource(environ.get("DISPLAY"))
    except Exception as exc:
        log.warning("cannot read the windows (%s): %s", current.compositor or current.kind, exc)
    return NoWindowSource()


WINDOW_SOURCES = {
    "sway": "sway IPC",
    "hyprland": "Hyprland IPC",
    "kwin": "KWin scripting (D-Bus)",
    "gnome": "lifelog's GNOME Shell extension (D-Bus), where enabled",
}


def describe(environ: Mapping[str, str] = os.environ) -> str:
    """The session, its capture path and its window source, for people (``lifelog doctor``)."""
    current = session(environ)
    if current.kind == "x11":
        windows = "EWMH (X11)"
    else:
        windows = WINDOW_SOURCES.get(
            current.compositor, "wlr-foreign-toplevel where the compositor offers it (app and title, no geometry)"
        )
    try:
        capture = CAPTURE_PATHS.get(capture_path(environ), "none")
    except CaptureUnavailable as exc:
        capture = str(exc)
    desktop = environ.get("XDG_CURRENT_DESKTOP", "")
    return f"{current.kind} session{f' ({desktop})' if desktop else ''}; capture: {capture}; windows: {windows}"
