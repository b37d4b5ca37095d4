"""Windows on wlroots compositors without an IPC of their own (river, labwc, wayfire...): the
``zwlr_foreign_toplevel_manager_v1`` protocol, spoken by a small Wayland client on the
compositor's Unix socket (``$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY``), no library needed.

The wire: each message is the object id (u32), then its size in bytes << 16 | its opcode (u32),
then its arguments, native-endian, strings and arrays as a length and bytes padded to 4. lifelog
binds the manager from ``wl_registry``; the compositor then announces each toplevel (a new
object) and sends its ``title``, ``app_id`` and ``state`` (``activated`` = 2), then ``done``; a
``closed`` one is destroyed. Before each query a ``wl_display.sync`` round trip brings the state up
to date.

The protocol gives app id, title and focus but no geometry: ``stack`` and ``visible`` hold the
focused toplevel alone, taken to cover every monitor. Lines go to the focused window; when it is an
excluded one, no grab is kept (the whole screen counts as excluded), but an excluded window beside
a focused one cannot be found and blanked.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from lifelog.capture.window import TopWindow
from lifelog.errors import CaptureUnavailable
from lifelog.models import VisibleWindow, WindowInfo

log = logging.getLogger(__name__)

MANAGER = "zwlr_foreign_toplevel_manager_v1"
TIMEOUT_S = 2.0
DISPLAY, REGISTRY = 1, 2
ACTIVATED = 2
# events: wl_display error 0, delete_id 1; wl_registry global 0; wl_callback done 0;
# manager toplevel 0, finished 1; handle title 0, app_id 1, state 4, done 5, closed 6
HANDLE_DESTROY = 7
EVERYWHERE = (-(1 << 15), -(1 << 15), 1 << 15, 1 << 15)


@dataclass
class Toplevel:
    title: str = ""
    app_id: str = ""
    activated: bool = False


def socket_path(environ: Mapping[str, str]) -> str:
    display = environ.get("WAYLAND_DISPLAY") or "wayland-0"
    if os.path.isabs(display):
        return display
    runtime = environ.get("XDG_RUNTIME_DIR")
    if not runtime:
        raise CaptureUnavailable("No Wayland socket: XDG_RUNTIME_DIR is not set.")
    return os.path.join(runtime, display)


class ForeignToplevelWindowSource:
    """The compositor's toplevels through wlr-foreign-toplevel-management. Raises
    CaptureUnavailable when the compositor cannot be reached or does not offer the protocol;
    never raises from a query."""

    def __init__(self, environ: Mapping[str, str] = os.environ, timeout_s: float = TIMEOUT_S) -> None:
        path = socket_path(environ)
        self.timeout_s = timeout_s
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._buf = b""
        self._next_id, self._free_ids = REGISTRY + 1, list[int]()
        self._manager = 0
        self._globals: dict[str, tuple[int, int]] = {}
        self.toplevels: dict[int, Toplevel] = {}
        try:
            self._sock.connect(path)
            self._send(DISPLAY, 1, struct.pack("=I", REGISTRY))  # get_registry
            self._roundtrip()
            if MANAGER not in self._globals:
                raise CaptureUnavailable(f"The Wayland compositor at {path} offers no {MANAGER} (no window list).")
            name, version = self._globals[MANAGER]
            self._manager = self._new_id()
            self._send(
                REGISTRY,
                0,
                struct.pack("=I", name) + _string(MANAGER) + struct.pack("=II", min(version, 3), self._manager),
            )
            self._roundtrip()
        except (OSError, TimeoutError) as exc:
            self._sock.close()
            raise CaptureUnavailable(f"Cannot read the windows from the Wayland compositor at {path}: {exc}.") from exc
        except BaseException:
            self._sock.close()
            raise

    def _new_id(self) -> int:
        if self._free_ids:
            return self._free_ids.pop()
        self._next_id += 1
        return self._next_id - 1

    def _send(self, obj: int, opcode: int, args: bytes = b"") -> None:
        self._sock.sendall(struct.pack("=II", obj, (8 + len(args)) << 16 | opcode) + args)

    def _roundtrip(self) -> None:
        callback = self._new_id()
        self._send(DISPLAY, 0, struct.pack("=I", callback))  # sync
        while True:
            obj, opcode, args = self._receive()
            if obj == callback and opcode == 0:
                return
            self._dispatch(obj, opcode, args)

    def _receive(self) -> tuple[int, int, bytes]:
        while True:
            if len(self._buf) >= 8:
                obj, word = struct.unpack_from("=II", self._buf)
                size = word >> 16
                if size < 8:
                    raise OSError("malformed Wayland message")
                if len(self._buf) >= size:
                    args, self._buf = self._buf[8:size], self._buf[size:]
                    return obj, word & 0xFFFF, args
            if not select.select([self._sock], [], [], self.timeout_s)[0]:
                raise TimeoutError(f"no answer in {self.timeout_s:g} s")
            chunk = self._sock.recv(65536)
            if not chunk:
                raise OSError("the compositor closed the connection")
            self._buf += chunk

    def _dispatch(self, obj: int, opcode: int, args: bytes) -> None:
        if obj == DISPLAY and opcode == 0:
            raise OSError(f"Wayland protocol error: {_read_string(args, 8)[0]}")
        if obj == DISPLAY and opcode == 1:
            self._free_ids.append(struct.unpack_from("=I", args)[0])
        elif obj == REGISTRY and opcode == 0:
            name = struct.unpack_from("=I", args)[0]
            interface, end = _read_string(args, 4)
            self._globals[interface] = (name, struct.unpack_from("=I", args, end)[0])
        elif obj == self._manager and opcode == 0:
            self.toplevels[struct.unpack_from("=I", args)[0]] = Toplevel()
        elif obj in self.toplevels:
            self._toplevel_event(obj, opcode, args)

    def _toplevel_event(self, obj: int, opcode: int, args: bytes) -> None:
        top = self.toplevels[obj]
        if opcode in (0, 1):
            text = _read_string(args, 0)[0]
            top.title, top.app_id = (text, top.app_id) if opcode == 0 else (top.title, text)
        elif opcode == 4:
            (length,) = struct.unpack_from("=I", args)
            top.activated = ACTIVATED in struct.unpack_from(f"={length // 4}I", args, 4)
        elif opcode == 6:
            del self.toplevels[obj]
            self._send(obj, HANDLE_DESTROY)

    def windows(self) -> list[Toplevel]:
        """Every toplevel now, in the order the compositor announced them."""
        try:
            self._roundtrip()
        except (OSError, TimeoutError, struct.error) as exc:
            log.debug("the Wayland compositor's windows are unknown: %s", exc)
            return []
        return list(self.toplevels.values())

    def active(self) -> WindowInfo:
        focused = next((t for t in self.windows() if t.activated), None)
        return WindowInfo(focused.app_id, focused.title) if focused else WindowInfo()

    def visible(self) -> list[VisibleWindow]:
        try:
            return [w.visible() for w in self.stack()]
        except (OSError, TimeoutError, struct.error):
            return []

    def stack(self) -> list[TopWindow]:
        """The focused toplevel alone, taken to cover every monitor (its place is unknown). Raises
        OSError when the compositor does not answer (the screen gate then keeps no grab)."""
        self._roundtrip()
        focused = [(handle, t) for handle, t in self.toplevels.items() if t.activated]
        return [TopWindow(h, EVERYWHERE, EVERYWHERE, t.app_id, t.app_id, t.title, focused=True) for h, t in focused]

    def close(self) -> None:
        self._sock.close()


def _string(text: str) -> bytes:
    data = text.encode() + b"\0"
    return struct.pack("=I", len(data)) + data + b"\0" * (-len(data) % 4)


def _read_string(args: bytes, offset: int) -> tuple[str, int]:
    (length,) = struct.unpack_from("=I", args, offset)
    start = offset + 4
    text = args[start : start + max(length - 1, 0)].decode(errors="replace")
    return text, start + length + (-length % 4)
