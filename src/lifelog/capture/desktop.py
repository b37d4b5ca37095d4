"""Which desktop this is, and how its screen and windows are read: the one place that chooses.

    X11 session (DISPLAY)               mss (``screen.MssGrabber``)          EWMH (``window.X11WindowSource``)
    Wayland, wlroots (WAYLAND_DISPLAY)  grim (``wayland.ScreencopyGrabber``)  sway IPC (``wayland.SwayWindowSource``)
    neither                             CaptureUnavailable, one line         no window source

A Wayland session never falls back to XWayland through ``DISPLAY`` (see ``wayland.py``).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

from lifelog.capture.screen import Grabber, MssGrabber
from lifelog.capture.wayland import ScreencopyGrabber, Session, SwayWindowSource, session
from lifelog.capture.window import NoWindowSource, WindowSource, X11WindowSource
from lifelog.errors import CaptureUnavailable

log = logging.getLogger(__name__)

__all__ = ["Session", "describe", "open_grabber", "open_window_source", "session"]


def open_grabber(environ: Mapping[str, str] = os.environ) -> Grabber:
    """The grabber for this session, checked to see a monitor; CaptureUnavailable with a line a
    person can act on otherwise."""
    kind = session(environ).kind
    if kind == "none" and sys.platform.startswith("linux"):
        raise CaptureUnavailable(
            "Cannot capture the screen: neither DISPLAY (X11) nor WAYLAND_DISPLAY (Wayland) is set. "
            "Run lifelog inside the desktop session (or set DISPLAY=:0)."
        )
    grabber: Grabber = ScreencopyGrabber(environ) if kind == "wayland" else MssGrabber(environ.get("DISPLAY"))
    try:
        if not grabber.monitors():
            raise CaptureUnavailable("No monitor found to capture.")
    except CaptureUnavailable:
        grabber.close()
        raise
    return grabber


def open_window_source(environ: Mapping[str, str] = os.environ) -> WindowSource:
    """The best window source for this session; never raises (no source: frames carry no app)."""
    current = session(environ)
    try:
        if current.compositor == "sway":
            return SwayWindowSource(environ.get("SWAYSOCK") or environ.get("I3SOCK"))
        if current.kind == "x11" and sys.platform.startswith("linux"):
            return X11WindowSource(environ.get("DISPLAY"))
    except Exception as exc:
        log.warning("cannot read the windows (%s): %s", current.kind, exc)
    return NoWindowSource()


def describe(environ: Mapping[str, str] = os.environ) -> str:
    """The session, its capture path and its window source, for people (``lifelog doctor``)."""
    current = session(environ)
    windows = {
        "sway": "sway IPC",
        "": "EWMH (X11)" if current.kind == "x11" else "none (only sway's IPC is read on Wayland yet)",
    }[current.compositor]
    desktop = environ.get("XDG_CURRENT_DESKTOP", "")
    return f"{current.kind} session{f' ({desktop})' if desktop else ''}; capture: {current.capture_path}; windows: {windows}"
