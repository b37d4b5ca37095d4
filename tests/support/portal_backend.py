"""A stand-in ScreenCast backend for the real xdg-desktop-portal, for tests on machines without a GPU.

Debian 12's xdg-desktop-portal-wlr (0.7.0) starts a cast only when wlr-screencopy offers DMA-BUF
buffers (src/screencast/screencast.c: "unable to receive a valid format from wlr_screencopy"),
which a headless sway on the pixman renderer never does. This backend stands where it would:
the real frontend (xdg-desktop-portal 1.16) talks to it as to any backend, keeps its restore data
in the real permission store, and hands lifelog a real PipeWire connection; the stream is real
PipeWire video of the real sway screen (grim's frames through ``gst-launch-1.0 ... ! pipewiresink``)
or, with ``LIFELOG_TEST_SCREEN=kwin``, of KWin's (its ScreenShot2 ``CaptureWorkspace`` over D-Bus,
allowed to any caller by ``KWIN_SCREENSHOT_NO_PERMISSION_CHECKS=1``: xdg-desktop-portal-kde is not
installed for tests).

    python portal_backend.py BUS_ADDRESS STATE_DIR

``STATE_DIR/answer`` (``grant`` or ``deny``) is what a person says in the dialog, which is "shown"
(counted in ``STATE_DIR/dialogs``) unless the frontend passes restore data from an earlier grant.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from jeepney import DBusAddress, MessageType, message_bus, new_error, new_method_call, new_method_return
from jeepney.io.blocking import Proxy, open_dbus_connection

from lifelog.capture.screen import Shot
from lifelog.capture.wayland import ppm_to_shot

NAME = "org.freedesktop.impl.portal.desktop.lifelogtest"
IMPL = "org.freedesktop.impl.portal.ScreenCast"
VENDOR = "lifelogtest"
PROPS = {"AvailableSourceTypes": ("u", 1), "AvailableCursorModes": ("u", 3), "version": ("u", 4)}


class Backend:
    def __init__(self, address: str, state: Path) -> None:
        self.conn = open_dbus_connection(address)
        self.state = state
        self.streams: dict[str, subprocess.Popen] = {}
        self.restored: set[str] = set()
        Proxy(message_bus, self.conn).RequestName(NAME, 4)

    def serve(self) -> None:
        while True:
            msg = self.conn.receive()
            if msg.header.message_type != MessageType.method_call:
                continue
            member = msg.header.fields.get(3)  # HeaderFields.member
            try:
                reply = getattr(self, f"on_{member}")(msg)
            except AttributeError:
                reply = new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (str(member),))
            if reply is not None:  # None: the dialog stays open, nobody answers
                self.conn.send(reply)

    def on_GetAll(self, msg):
        return new_method_return(msg, "a{sv}", (PROPS if msg.body[0] == IMPL else {},))

    def on_Get(self, msg):
        return new_method_return(msg, "v", (PROPS[msg.body[1]],))

    def on_CreateSession(self, msg):
        return new_method_return(msg, "ua{sv}", (0, {}))

    def on_SelectSources(self, msg):
        _, session, _, options = msg.body
        data = options.get("restore_data", (None, None))[1]
        if data and data[0] == VENDOR:
            self.restored.add(session)
        return new_method_return(msg, "ua{sv}", (0, {}))

    def on_Start(self, msg):
        _, session, _, _, options = msg.body
        if session not in self.restored:
            dialogs = self.state / "dialogs"
            dialogs.write_text(str(int(dialogs.read_text() or 0) + 1) if dialogs.exists() else "1")
            answer = (self.state / "answer").read_text().strip()
            if answer == "none":
                return None
            if answer != "grant":
                return new_method_return(msg, "ua{sv}", (1, {}))
        node, width, height = self.stream(session)
        results = {
            "streams": (
                "a(ua{sv})",
                [(node, {"position": ("(ii)", (0, 0)), "size": ("(ii)", (width, height)), "source_type": ("u", 1)})],
            ),
            "persist_mode": ("u", 2),
            "restore_data": ("(suv)", (VENDOR, 1, ("s", "HEADLESS-1"))),
        }
        return new_method_return(msg, "ua{sv}", (0, results))

    def on_Close(self, msg):
        proc = self.streams.pop(msg.header.fields.get(1, ""), None)  # HeaderFields.path: the session
        if proc:
            proc.terminate()
        return new_method_return(msg)

    def stream(self, session: str) -> tuple[int, int, int]:
        """A PipeWire video node showing the sway screen at 10 fps: (node id, width, height)."""
        shot = grab()
        name = f"lifelogtest-{len(self.streams)}-{int(time.time() * 1000)}"
        proc = subprocess.Popen(
            [
                "gst-launch-1.0",
                "-q",
                "fdsrc",
                "fd=0",
                "blocksize=" + str(shot.width * shot.height * 4),
                "!",
                "rawvideoparse",
                f"width={shot.width}",
                f"height={shot.height}",
                "format=bgrx",
                "framerate=10/1",
                "!",
                "videoconvert",
                "!",
                "video/x-raw,format=BGRx",  # pipewiresink takes no buffer straight from rawvideoparse
                "!",
                "pipewiresink",
                "mode=provide",
                f"stream-properties=p,node.name={name},media.class=Video/Source",
            ],  # fmt: skip
            stdin=subprocess.PIPE,
        )
        self.streams[session] = proc
        threading.Thread(target=feed, args=(proc,), daemon=True).start()
        return find_node(name), shot.width, shot.height


def grab() -> Shot:
    if os.environ.get("LIFELOG_TEST_SCREEN") == "kwin":
        return kwin_shot()
    done = subprocess.run(["grim", "-t", "ppm", "-"], capture_output=True, check=True)
    return ppm_to_shot(done.stdout)


def kwin_shot() -> Shot:
    """KWin's whole workspace through ``org.kde.KWin.ScreenShot2.CaptureWorkspace``: the pixels
    come down a pipe, their size and stride in the reply (format 6: 32-bit BGRA in memory)."""
    read, write = os.pipe()
    with open_dbus_connection(os.environ["DBUS_SESSION_BUS_ADDRESS"], enable_fds=True) as conn:
        shot2 = DBusAddress("/org/kde/KWin/ScreenShot2", "org.kde.KWin", "org.kde.KWin.ScreenShot2")
        call = new_method_call(shot2, "CaptureWorkspace", "a{sv}h", ({"native-resolution": ("b", True)}, write))
        try:
            reply = conn.send_and_get_reply(call, timeout=10)
        finally:
            os.close(write)  # KWin writes through its own copy, after the reply
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    if reply.header.message_type == MessageType.error:
        raise OSError(f"ScreenShot2: {reply.body}")
    info = {k: v[1] for k, v in reply.body[0].items()}
    width, height, stride = int(info["width"]), int(info["height"]), int(info["stride"])
    rows = np.frombuffer(data, np.uint8, height * stride).reshape(height, stride)
    return Shot(bytearray(rows[:, : width * 4].tobytes()), width, height)


def feed(proc: subprocess.Popen) -> None:
    assert proc.stdin is not None
    try:
        while proc.poll() is None:
            proc.stdin.write(bytes(grab().raw))
            proc.stdin.flush()
            time.sleep(0.1)
    except (OSError, subprocess.CalledProcessError):
        pass


def find_node(name: str) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        dump = subprocess.run(["pw-dump"], capture_output=True, text=True).stdout
        for obj in json.loads(dump or "[]"):
            if (
                obj.get("type") == "PipeWire:Interface:Node"
                and (obj.get("info") or {}).get("props", {}).get("node.name") == name
            ):
                return int(obj["id"])
        time.sleep(0.2)
    raise RuntimeError(f"no PipeWire node {name}")


if __name__ == "__main__":
    backend = Backend(sys.argv[1], Path(sys.argv[2]))

    def stop(_signum, _frame) -> None:  # the streams' producers go with the backend
        for proc in backend.streams.values():
            proc.terminate()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    backend.serve()
