"""The desktop portal's ScreenCast: the screen of GNOME, KDE Plasma and any Wayland desktop with an
xdg-desktop-portal backend, asked for once and remembered.

    ScreenCast(environ, folder)   a portal session: CreateSession, SelectSources, Start
    PortalGrabber(environ, fps)   its streams' frames as monitors (``pipewire.PipeWireFrames``)

``org.freedesktop.portal.ScreenCast`` (version 4) on the session bus, through ``jeepney`` (pure
Python, blocking I/O: the capture child has no event loop). Each request returns a Request object
whose ``Response`` signal carries the answer (0 granted, 1 the user said no, 2 failed); lifelog
subscribes to it before asking. Sources are every monitor (``types`` 1, ``multiple``), the
cursor hidden, and ``persist_mode`` 2: the grant holds until the user revokes it, and ``Start``
returns a restore token that the next start passes back so that no dialog is shown. The portal
may make a token good for one start only, so each start's token replaces the one kept in
``portal-restore-token`` in the data folder (0600); xdg-desktop-portal 1.16 hands the same one
back while the grant stands. The frontend keeps what the token stands for in its permission store; whether
a backend honours it is its own choice (GNOME and KDE do; xdg-desktop-portal-wlr 0.7 only when
``XDPW_PERSIST_MODE=permanent`` is in its environment, and sway, Hyprland and river are captured
through grim without any dialog anyway).

While a portal session streams, the desktop shows its own indicator (GNOME's orange icon in the
top bar, KDE's in the system tray): expected, and the user's way to stop the cast. A refusal is
kept (``portal-denied`` in the data folder) so that a daemon's retries never ask again; deleting
that file asks once more.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lifelog.capture.pipewire import PipeWireFrames
from lifelog.capture.screen import Monitor, Shot
from lifelog.errors import CaptureUnavailable

log = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.portal.Desktop"
OBJECT = "/org/freedesktop/portal/desktop"
SCREENCAST = "org.freedesktop.portal.ScreenCast"
TOKEN_FILE, DENIED_FILE = "portal-restore-token", "portal-denied"
CALL_TIMEOUT_S = 30.0
DIALOG_TIMEOUT_S = 300.0  # the first start waits for a person to answer the desktop's dialog
WAIT_SLICE_S = 0.25  # while waiting for an answer, how often a stop (Ctrl-C, SIGTERM) is looked at
MONITORS, CURSOR_HIDDEN, PERSIST_UNTIL_REVOKED = 1, 1, 2
GRANTED, REFUSED = 0, 1


@dataclass(frozen=True)
class Stream:
    """One monitor's stream: its PipeWire node and where it sits in the desktop's layout."""

    node: int
    left: int = 0
    top: int = 0
    width: int = 0
    height: int = 0


def bus_address(environ: Mapping[str, str]) -> str:
    """The session bus: ``DBUS_SESSION_BUS_ADDRESS``, else ``$XDG_RUNTIME_DIR/bus`` (systemd's)."""
    if environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return environ["DBUS_SESSION_BUS_ADDRESS"]
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.exists(os.path.join(runtime, "bus")):
        return f"unix:path={runtime}/bus"
    raise CaptureUnavailable(
        "Cannot ask the desktop portal for the screen: no session bus (DBUS_SESSION_BUS_ADDRESS is not set). "
        "Run lifelog inside the desktop session."
    )


class ScreenCast:
    """A started portal screen cast; ``streams`` are its monitors. Keep it open while capturing
    (the portal ends the cast when this connection closes)."""

    def __init__(
        self,
        environ: Mapping[str, str],
        folder: Path,
        dialog_timeout_s: float = DIALOG_TIMEOUT_S,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        from jeepney import DBusAddress
        from jeepney.io.blocking import open_dbus_connection

        self.folder = folder
        self._should_stop = should_stop
        denied = folder / DENIED_FILE
        if denied.exists():
            raise CaptureUnavailable(
                f"The screen cast was refused in the desktop's dialog ({denied.read_text().strip()}): lifelog does "
                f"not ask again. Delete {denied} to be asked once more."
            )
        address = bus_address(environ)
        try:
            self._conn = open_dbus_connection(address, enable_fds=True)
        except (OSError, ValueError) as exc:
            raise CaptureUnavailable(f"Cannot reach the session bus ({address}): {exc}.") from exc
        self._portal = DBusAddress(OBJECT, BUS_NAME, SCREENCAST)
        self._sender = (self._conn.unique_name or ":").lstrip(":").replace(".", "_")
        self.session = ""
        try:
            self.version = self._version()
            self.streams = self._start(dialog_timeout_s)
        except BaseException:
            self.close()
            raise

    def _version(self) -> int:
        from jeepney import Properties

        reply = self._conn.send_and_get_reply(Properties(self._portal).get("version"), timeout=CALL_TIMEOUT_S)
        if reply.header.message_type.name == "error":
            raise CaptureUnavailable(
                f"The desktop portal offers no screen cast ({_error(reply)}): install xdg-desktop-portal with "
                "the backend of this desktop (xdg-desktop-portal-gnome, -kde or -wlr)."
            )
        return int(reply.body[0][1])

    def _start(self, dialog_timeout_s: float) -> list[Stream]:
        token = self.folder / TOKEN_FILE
        results = self._request(
            "CreateSession", "a{sv}", lambda t: ({**t, "session_handle_token": ("s", t["handle_token"][1])},)
        )
        self.session = str(results["session_handle"][1])
        options: dict[str, tuple[str, object]] = {
            "types": ("u", MONITORS),
            "multiple": ("b", True),
            "cursor_mode": ("u", CURSOR_HIDDEN),
        }
        if self.version >= 4:
            options["persist_mode"] = ("u", PERSIST_UNTIL_REVOKED)
            if token.exists():
                options["restore_token"] = ("s", token.read_text().strip())
        self._request("SelectSources", "oa{sv}", lambda t: (self.session, {**t, **options}))
        results = self._request("Start", "osa{sv}", lambda t: (self.session, "", t), timeout=dialog_timeout_s)
        if "restore_token" in results:
            write_private(token, str(results["restore_token"][1]))
        streams = [_stream(node, props) for node, props in results.get("streams", ("a(ua{sv})", []))[1]]
        if not streams:
            raise CaptureUnavailable("The desktop portal started a screen cast with no monitor in it.")
        return streams

    def _answer(self, responses, method: str, timeout: float) -> tuple[int, dict]:
        """The Response to ``method``, waited for in slices so that a stop asked meanwhile (the
        first start's dialog may stay open for minutes) is heeded within WAIT_SLICE_S."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self._conn.recv_until_filtered(
                    responses, timeout=max(0.0, min(WAIT_SLICE_S, deadline - time.monotonic()))
                ).body
            except TimeoutError as exc:
                if self._should_stop():
                    raise CaptureUnavailable(
                        f"Stopped while waiting for the desktop portal to answer {method}."
                    ) from exc
                if time.monotonic() >= deadline:
                    raise CaptureUnavailable(f"The desktop portal did not answer {method} in {timeout:g} s.") from exc

    def _request(self, method: str, signature: str, body, timeout: float = CALL_TIMEOUT_S) -> dict:
        """Call ``method`` with a fresh handle token and wait for its Response signal's results."""
        from jeepney import MatchRule, message_bus, new_method_call
        from jeepney.io.blocking import Proxy

        handle = f"lifelog{secrets.token_hex(6)}"
        path = f"{OBJECT}/request/{self._sender}/{handle}"
        rule = MatchRule(type="signal", interface="org.freedesktop.portal.Request", member="Response", path=path)
        Proxy(message_bus, self._conn).AddMatch(rule)
        with self._conn.filter(rule) as responses:
            reply = self._conn.send_and_get_reply(
                new_method_call(self._portal, method, signature, body({"handle_token": ("s", handle)})),
                timeout=CALL_TIMEOUT_S,
            )
            if reply.header.message_type.name == "error":
                raise CaptureUnavailable(f"The desktop portal refused {method}: {_error(reply)}.")
            code, results = self._answer(responses, method, timeout)
        if code == REFUSED:
            write_private(self.folder / DENIED_FILE, time.strftime("%Y-%m-%d %H:%M"))
            raise CaptureUnavailable(
                f"The screen cast was refused in the desktop's dialog: lifelog records no screen and will not ask "
                f"again. Delete {self.folder / DENIED_FILE} to be asked once more."
            )
        if code != GRANTED:
            raise CaptureUnavailable(
                f"The desktop portal could not {method[0].lower() + method[1:]} a screen cast (its backend failed; "
                "`journalctl --user -u xdg-desktop-portal*` says why)."
            )
        return dict(results)

    def pipewire_fd(self) -> int:
        """A new connection to PipeWire that sees only this cast's streams (the caller closes it)."""
        from jeepney import new_method_call

        reply = self._conn.send_and_get_reply(
            new_method_call(self._portal, "OpenPipeWireRemote", "oa{sv}", (self.session, {})), timeout=CALL_TIMEOUT_S
        )
        if reply.header.message_type.name == "error":
            raise CaptureUnavailable(f"The desktop portal gave no PipeWire connection: {_error(reply)}.")
        return int(reply.body[0].to_raw_fd())

    def close(self) -> None:
        from jeepney import DBusAddress, new_method_call

        try:
            if self.session:
                closing = DBusAddress(self.session, BUS_NAME, "org.freedesktop.portal.Session")
                self._conn.send(new_method_call(closing, "Close"))
        except OSError as exc:
            log.debug("closing the portal session failed: %s", exc)
        self._conn.close()


def _stream(node: int, props: Mapping) -> Stream:
    left, top = props.get("position", ("(ii)", (0, 0)))[1]
    width, height = props.get("size", ("(ii)", (0, 0)))[1]
    return Stream(int(node), int(left), int(top), int(width), int(height))


def _error(reply) -> str:
    name = reply.header.fields.get(4, "")  # HeaderFields.error_name
    text = reply.body[0] if reply.body and isinstance(reply.body[0], str) else ""
    return f"{name}: {text}" if text else str(name)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the owner alone (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    os.replace(tmp, path)


class PortalGrabber:
    """Each monitor of a portal screen cast, from its PipeWire stream at the capture rate.
    ``grab`` returns the newest frame (the stream sends one when the screen changes)."""

    def __init__(
        self,
        environ: Mapping[str, str],
        fps: float = 2.0,
        folder: Path | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        gst = gstreamer(environ)
        self._cast = ScreenCast(environ, folder or data_folder(environ), should_stop=should_stop)
        self._frames: dict[int, PipeWireFrames] = {}
        self._monitors: list[Monitor] = []
        try:
            for index, stream in enumerate(self._cast.streams, 1):
                fd = self._cast.pipewire_fd()
                try:
                    self._frames[index] = PipeWireFrames(gst, fd, stream.node, fps, environ)
                finally:
                    os.close(fd)
                first = self._frames[index].latest()
                self._monitors.append(Monitor(index, stream.left, stream.top, first.width, first.height))
        except BaseException:
            self.close()
            raise

    def monitors(self) -> list[Monitor]:
        return list(self._monitors)

    def grab(self, monitor: Monitor) -> Shot:
        return self._frames[monitor.index].latest()

    def frames_read(self) -> int:
        """Frames the streams have delivered (for benchmarks)."""
        return sum(f.count for f in self._frames.values())

    def close(self) -> None:
        for frames in self._frames.values():
            frames.close()
        self._cast.close()


def check(environ: Mapping[str, str]) -> str:
    """What ``lifelog doctor`` says of the portal path, without starting a cast (no dialog):
    GStreamer's PipeWire source, the portal's ScreenCast version and the grant kept."""
    from jeepney import DBusAddress, Properties
    from jeepney.io.blocking import open_dbus_connection

    gstreamer(environ)
    folder = data_folder(environ)
    if (folder / DENIED_FILE).exists():
        raise CaptureUnavailable(f"the screen cast was refused; delete {folder / DENIED_FILE} to be asked again")
    conn = open_dbus_connection(bus_address(environ))
    try:
        reply = conn.send_and_get_reply(
            Properties(DBusAddress(OBJECT, BUS_NAME, SCREENCAST)).get("version"), timeout=CALL_TIMEOUT_S
        )
    finally:
        conn.close()
    if reply.header.message_type.name == "error":
        raise CaptureUnavailable(f"the desktop portal offers no screen cast ({_error(reply)})")
    kept = "a grant is kept (no dialog at start)" if (folder / TOKEN_FILE).exists() else "the first start asks once"
    return (
        f"ScreenCast v{reply.body[0][1]}, GStreamer's pipewiresrc present; {kept}; the desktop shows its cast indicator"
    )


def data_folder(environ: Mapping[str, str]) -> Path:
    """The data folder of ``environ`` (``LIFELOG_HOME`` when set), where the restore token lives."""
    from lifelog.paths import Paths

    home = environ.get("LIFELOG_HOME")
    return Paths(Path(home).expanduser().resolve() if home else None).data


def gstreamer(environ: Mapping[str, str]) -> str:
    """gst-launch-1.0 with PipeWire's source, or CaptureUnavailable naming the Debian packages."""
    gst = shutil.which("gst-launch-1.0", path=environ.get("PATH"))
    inspect = shutil.which("gst-inspect-1.0", path=environ.get("PATH"))
    has_source = (
        inspect and subprocess.run([inspect, "pipewiresrc"], env=dict(environ), capture_output=True).returncode == 0
    )
    if not gst or not has_source:
        raise CaptureUnavailable(
            "Cannot read the desktop portal's screen cast: GStreamer's PipeWire source is missing "
            "(apt-get install gstreamer1.0-tools gstreamer1.0-pipewire)."
        )
    return gst
