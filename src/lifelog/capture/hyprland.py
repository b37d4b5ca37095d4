"""Windows on Hyprland, from its IPC socket (the pixels come through grim: Hyprland offers
wlr-screencopy).

The socket is ``$XDG_RUNTIME_DIR/hypr/$HYPRLAND_INSTANCE_SIGNATURE/.socket.sock`` (Hyprland 0.40
on; ``/tmp/hypr/...`` before). One request a connection: the client writes a command, ``j/``
before it for JSON (``j/clients``, ``j/monitors``, ``j/activewindow``), and reads the reply until
Hyprland closes the connection. A client has ``address``, ``mapped``, ``hidden``, ``at`` and
``size`` (layout coordinates, no title bar), ``workspace`` ``{id, name}``, ``floating``,
``pinned``, ``fullscreen``, ``class``, ``title``, ``initialClass``, ``pid`` and
``focusHistoryID`` (0 = focused last); a monitor its ``activeWorkspace`` and
``specialWorkspace``; ``activewindow`` is the focused client or ``{}``.

Hyprland reports no stacking order: shown windows are ordered special workspace first, then
fullscreen, pinned, floating, tiled, and within each the most recently focused first.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Mapping

from lifelog.capture.window import TopWindow
from lifelog.errors import CaptureUnavailable
from lifelog.models import VisibleWindow, WindowInfo

log = logging.getLogger(__name__)

TIMEOUT_S = 2.0


def socket_path(environ: Mapping[str, str]) -> str:
    signature = environ.get("HYPRLAND_INSTANCE_SIGNATURE", "")
    if not signature:
        raise CaptureUnavailable("No Hyprland IPC: HYPRLAND_INSTANCE_SIGNATURE is not set (is this Hyprland?).")
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    for base in ([os.path.join(runtime, "hypr")] if runtime else []) + ["/tmp/hypr"]:
        path = os.path.join(base, signature, ".socket.sock")
        if os.path.exists(path):
            return path
    raise CaptureUnavailable(f"Hyprland's IPC socket for {signature} was not found under $XDG_RUNTIME_DIR/hypr.")


def ask(path: str, command: str) -> object:
    """Send one command (``j/clients``) and return its JSON reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(TIMEOUT_S)
        sock.connect(path)
        sock.sendall(command.encode())
        chunks = []
        while chunk := sock.recv(1 << 16):
            chunks.append(chunk)
    return json.loads(b"".join(chunks) or b"null")


def _layer(client: Mapping, special: set[int]) -> int:
    """Lower is drawn above: special workspace, fullscreen, pinned, floating, tiled."""
    if (client.get("workspace") or {}).get("id") in special:
        return 0
    if client.get("fullscreen"):
        return 1
    if client.get("pinned"):
        return 2
    return 3 if client.get("floating") else 4


def shown(clients: list, monitors: list) -> list[Mapping]:
    """The clients on a workspace some monitor shows, topmost first."""
    active = {int((m.get("activeWorkspace") or {}).get("id", 0)) for m in monitors}
    special = {int((m.get("specialWorkspace") or {}).get("id", 0)) for m in monitors} - {0}
    visible = [
        c
        for c in clients
        if c.get("mapped", True) and not c.get("hidden") and (c.get("workspace") or {}).get("id") in active | special
    ]
    return sorted(visible, key=lambda c: (_layer(c, special), int(c.get("focusHistoryID", 1 << 30))))


class HyprlandWindowSource:
    """Hyprland's windows with their rectangles and focus. Never raises from a query: an IPC that
    does not answer gives an unknown window and an empty list."""

    def __init__(self, environ: Mapping[str, str] = os.environ, path: str | None = None) -> None:
        self.path = path or socket_path(environ)

    def stack(self) -> list[TopWindow]:
        try:
            clients, monitors, active = (ask(self.path, c) for c in ("j/clients", "j/monitors", "j/activewindow"))
        except (OSError, ValueError) as exc:
            log.debug("Hyprland's windows unknown: %s", exc)
            return []
        if not isinstance(clients, list) or not isinstance(monitors, list):
            return []
        focused = active.get("address") if isinstance(active, dict) else None
        out = []
        for c in shown(clients, monitors):
            (x, y), (w, h) = c.get("at", (0, 0)), c.get("size", (0, 0))
            box = (int(x), int(y), int(x) + int(w), int(y) + int(h))
            app = str(c.get("class") or c.get("initialClass") or "")
            out.append(
                TopWindow(
                    id=int(str(c.get("address", "0")), 16),
                    box=box,
                    client_box=box,
                    app=app,
                    instance=str(c.get("initialClass") or app),
                    title=str(c.get("title") or ""),
                    pid=int(c.get("pid") or 0),
                    focused=c.get("address") == focused,
                )
            )
        return out

    def visible(self) -> list[VisibleWindow]:
        return [w.visible() for w in self.stack() if w.app or w.title]

    def active(self) -> WindowInfo:
        try:
            window = ask(self.path, "j/activewindow")
        except (OSError, ValueError) as exc:
            log.debug("Hyprland's focused window unknown: %s", exc)
            return WindowInfo()
        if not isinstance(window, dict) or not window:
            return WindowInfo()
        return WindowInfo(str(window.get("class") or window.get("initialClass") or ""), str(window.get("title") or ""))

    def close(self) -> None:
        pass
