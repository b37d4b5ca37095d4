"""Wayland: which kind of desktop session this is, and the wlroots path (sway and other
compositors that offer ``wlr-screencopy``).

    session()              x11, wayland or none, from XDG_SESSION_TYPE, WAYLAND_DISPLAY, DISPLAY
    ScreencopyGrabber()    each output through ``grim`` (wlr-screencopy), as PPM, made BGRA
    SwayWindowSource()     windows, their rectangles and focus from sway's IPC (i3's protocol)

An X11 session keeps mss and EWMH (``screen.py``, ``window.py``). A Wayland session never falls
back to XWayland through ``DISPLAY``: XWayland shows only X clients, so a grab through it is
black or stale where Wayland windows are. On a compositor without wlr-screencopy (GNOME, KDE
Plasma) the desktop portal's ScreenCast is the way in (``portal.py``).

Sway's IPC (``$SWAYSOCK``): a message is ``i3-ipc``, the payload's length and the message type
(two little-endian 32-bit numbers), then the JSON payload; the reply has the same header.
``GET_TREE`` lists every container: views (``pid``, ``app_id`` or X11 ``window_properties``,
``name`` = title, ``rect`` = the container below its title bar in layout coordinates,
``window_rect`` = the client's area within it, ``deco_rect`` = the title bar, ``focused``,
``visible``); ``GET_OUTPUTS`` the outputs with their ``rect`` and
``scale``. Layout coordinates are the "root" coordinates of the rest of capture when every output
has scale 1 (the only case tested); at other scales grim's pixels are the output's physical ones.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import struct
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from lifelog.capture.screen import Monitor, Shot
from lifelog.capture.window import TopWindow
from lifelog.errors import CaptureUnavailable
from lifelog.models import Box, VisibleWindow, WindowInfo

log = logging.getLogger(__name__)

GRAB_TIMEOUT_S = 5.0
_MAGIC = b"i3-ipc"
_HEADER = struct.Struct("<II")
GET_TREE, GET_OUTPUTS = 4, 3


WLROOTS = ("sway", "hyprland", "river", "wayfire", "labwc", "wlroots")  # offer wlr-screencopy to grim
CAPTURE_PATHS = {"mss": "mss (X11)", "screencopy": "grim (wlr-screencopy)", "portal": "desktop portal (PipeWire)"}


@dataclass(frozen=True)
class Session:
    """The desktop session lifelog runs in: ``kind`` is ``x11``, ``wayland`` or ``none``;
    ``compositor`` names a Wayland compositor whose ways lifelog knows (``sway``, ``hyprland``,
    ``kwin``, ``gnome``, another wlroots one by its ``XDG_CURRENT_DESKTOP``) or is ""."""

    kind: str
    compositor: str = ""

    @property
    def capture(self) -> str:
        """How the screen is read: ``mss``, ``screencopy`` (wlroots), ``portal`` (GNOME, KDE) or ``none``;
        an unknown Wayland compositor tries screencopy first, then the portal."""
        if self.kind == "wayland":
            return "portal" if self.compositor in ("kwin", "gnome") else "screencopy"
        return "mss" if self.kind == "x11" else "none"

    @property
    def capture_path(self) -> str:
        return CAPTURE_PATHS.get(self.capture, "none")


def session(environ: Mapping[str, str] = os.environ) -> Session:
    """The session from the environment: ``XDG_SESSION_TYPE`` when it says ``wayland`` or ``x11``
    and the matching display is set; else ``WAYLAND_DISPLAY`` means Wayland (a Wayland session
    also exports ``DISPLAY`` for XWayland), ``DISPLAY`` alone X11."""
    declared = environ.get("XDG_SESSION_TYPE", "")
    wayland, x11 = bool(environ.get("WAYLAND_DISPLAY")), bool(environ.get("DISPLAY"))
    if declared == "x11" and x11:
        kind = "x11"
    elif wayland:
        kind = "wayland"
    else:
        kind = "x11" if x11 else "none"
    return Session(kind, compositor(environ) if kind == "wayland" else "")


def compositor(environ: Mapping[str, str]) -> str:
    """The Wayland compositor: its IPC's variable first, then ``XDG_CURRENT_DESKTOP``."""
    if environ.get("SWAYSOCK") or environ.get("I3SOCK"):
        return "sway"
    if environ.get("HYPRLAND_INSTANCE_SIGNATURE"):
        return "hyprland"
    desktops = environ.get("XDG_CURRENT_DESKTOP", "").lower().split(":")
    if "kde" in desktops:
        return "kwin"
    if "gnome" in desktops:
        return "gnome"
    return next((d for d in desktops if d in WLROOTS), "")


class SwayIpc:
    """One connection to sway's IPC socket; each call sends a message and reads its reply."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or os.environ.get("SWAYSOCK") or os.environ.get("I3SOCK") or ""
        if not self.path:
            raise CaptureUnavailable("No sway IPC socket: SWAYSOCK is not set (is this a sway session?).")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(GRAB_TIMEOUT_S)
        try:
            self._sock.connect(self.path)
        except OSError as exc:
            self._sock.close()
            raise CaptureUnavailable(f"Cannot reach sway's IPC socket {self.path}: {exc.strerror or exc}.") from exc

    def call(self, kind: int, payload: bytes = b"") -> object:
        self._sock.sendall(_MAGIC + _HEADER.pack(len(payload), kind) + payload)
        header = self._read(len(_MAGIC) + _HEADER.size)
        if header[: len(_MAGIC)] != _MAGIC:
            raise OSError("sway IPC: a reply without the i3-ipc header")
        length, _ = _HEADER.unpack(header[len(_MAGIC) :])
        return json.loads(self._read(length))

    def _read(self, n: int) -> bytes:
        chunks, left = [], n
        while left:
            chunk = self._sock.recv(min(left, 1 << 20))
            if not chunk:
                raise OSError("sway IPC: the compositor closed the connection")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self._sock.close()


def _box(rect: Mapping) -> Box:
    return (rect["x"], rect["y"], rect["x"] + rect["width"], rect["y"] + rect["height"])


def views(node: Mapping, shown: bool = True) -> list[Mapping]:
    """The tree's views (windows) in drawing order, topmost first: floating above tiled, a
    later sibling above an earlier one; ``shown`` False below a workspace that is not visible."""
    out: list[Mapping] = []
    if node.get("type") == "workspace":
        shown = shown and bool(node.get("visible", True)) and node.get("name") != "__i3_scratch"
    for child in reversed(node.get("floating_nodes", [])):
        out += views(child, shown)
    for child in node.get("nodes", []):
        out += views(child, shown)
    is_view = node.get("type") in ("con", "floating_con") and node.get("pid") and not node.get("nodes")
    if is_view and shown and node.get("visible", True):
        out.append(node)
    return out


def _app(view: Mapping) -> tuple[str, str]:
    """(app, instance): a Wayland client's app_id; an XWayland client's WM_CLASS class and instance."""
    props = view.get("window_properties") or {}
    if view.get("app_id"):
        return str(view["app_id"]), str(view["app_id"])
    return str(props.get("class", "")), str(props.get("instance", ""))


class SwayWindowSource:
    """Windows on sway: the focused one, and every window shown on a visible workspace with its
    rectangle (content area; with its title bar for ``stack``). Never raises from a query: a
    compositor that went away gives an unknown window and an empty list, and the next query
    connects again."""

    def __init__(self, path: str | None = None) -> None:
        self._path = path
        self._ipc: SwayIpc | None = SwayIpc(path)

    def _tree(self) -> Mapping:
        if self._ipc is None:
            self._ipc = SwayIpc(self._path)
        try:
            tree = self._ipc.call(GET_TREE)
        except (OSError, ValueError):
            self._ipc.close()
            self._ipc = None
            raise
        assert isinstance(tree, dict)
        return tree

    def stack(self) -> list[TopWindow]:
        try:
            shown = views(self._tree())
        except (OSError, ValueError, CaptureUnavailable) as exc:
            log.debug("sway window tree unknown: %s", exc)
            return []
        out = []
        for v in shown:
            app, instance = _app(v)
            outer = _box(v["rect"])  # the container: borders, not its title bar (deco_rect, above it)
            inner = v.get("window_rect") or {"x": 0, "y": 0, "width": v["rect"]["width"], "height": v["rect"]["height"]}
            title_bar = int((v.get("deco_rect") or {}).get("height") or 0)
            out.append(
                TopWindow(
                    id=int(v["id"]),
                    box=(outer[0], outer[1] - title_bar, outer[2], outer[3]),
                    client_box=_box({**inner, "x": outer[0] + inner["x"], "y": outer[1] + inner["y"]}),
                    app=app,
                    instance=instance,
                    title=str(v.get("name") or ""),
                    pid=int(v.get("pid") or 0),
                    focused=bool(v.get("focused")),
                )
            )
        return out

    def visible(self) -> list[VisibleWindow]:
        return [w.visible() for w in self.stack() if w.app or w.instance or w.title]

    def active(self) -> WindowInfo:
        focused = next((w for w in self.stack() if w.focused), None)
        return WindowInfo(focused.app or focused.instance, focused.title) if focused else WindowInfo()

    def close(self) -> None:
        if self._ipc is not None:
            self._ipc.close()


class ScreencopyGrabber:
    """Grabs each output through ``grim`` (wlr-screencopy: sway, Hyprland, river, Wayfire...).
    Outputs come from sway's IPC when it runs, else the whole layout is one monitor."""

    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        self._grim = shutil.which("grim", path=environ.get("PATH"))
        if not self._grim:
            raise CaptureUnavailable(
                "Cannot capture this Wayland screen: grim is not installed (apt-get install grim; "
                "it reads the screen through wlr-screencopy)."
            )
        self._env = dict(environ)
        self._names: dict[int, str] = {}
        self._monitors = self._outputs(environ)

    def _outputs(self, environ: Mapping[str, str]) -> list[Monitor]:
        if session(environ).compositor == "sway":
            ipc = SwayIpc(environ.get("SWAYSOCK") or environ.get("I3SOCK"))
            try:
                outputs = ipc.call(GET_OUTPUTS)
            finally:
                ipc.close()
            assert isinstance(outputs, list)
            active = sorted((o for o in outputs if o.get("active")), key=lambda o: (o["rect"]["x"], o["rect"]["y"]))
            monitors = []
            for i, o in enumerate(active, 1):
                r = o["rect"]
                monitors.append(Monitor(i, r["x"], r["y"], r["width"], r["height"]))
                self._names[i] = o["name"]
            return monitors
        shot = self._grim_shot(None)  # one monitor: the whole layout, at the size grim gives
        return [Monitor(1, 0, 0, shot.width, shot.height)]

    def monitors(self) -> list[Monitor]:
        return list(self._monitors)

    def grab(self, monitor: Monitor) -> Shot:
        return self._grim_shot(self._names.get(monitor.index))

    def _grim_shot(self, output: str | None) -> Shot:
        args = [str(self._grim), "-t", "ppm", *(["-o", output] if output else []), "-"]
        try:
            done = subprocess.run(args, env=self._env, capture_output=True, timeout=GRAB_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise CaptureUnavailable(f"grim did not answer in {GRAB_TIMEOUT_S:g} s.") from exc
        if done.returncode != 0:
            why = done.stderr.decode(errors="replace").strip().splitlines()
            raise CaptureUnavailable(
                "Cannot capture this Wayland screen through wlr-screencopy: "
                f"{why[-1] if why else f'grim exited with {done.returncode}'}. GNOME and KDE Plasma do not offer it "
                "(LIFELOG_SCREEN_CAPTURE=portal reads them through the desktop portal); sway, Hyprland, river and "
                "Wayfire do."
            )
        return ppm_to_shot(done.stdout)

    def close(self) -> None:
        pass


def ppm_to_shot(data: bytes) -> Shot:
    """A binary PPM (P6, 8 bits a channel) as a BGRA :class:`Shot`."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":  # a comment runs to the end of its line
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while end < len(data) and not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    magic, width, height, top = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if magic != b"P6" or top != 255:
        raise CaptureUnavailable(f"grim wrote an image lifelog cannot read ({magic!r}, max {top}).")
    rgb = np.frombuffer(data, np.uint8, width * height * 3, pos + 1).reshape(height, width, 3)
    bgra = np.empty((height, width, 4), np.uint8)
    bgra[..., 0], bgra[..., 1], bgra[..., 2], bgra[..., 3] = rgb[..., 2], rgb[..., 1], rgb[..., 0], 255
    return Shot(bytearray(bgra.tobytes()), width, height)
