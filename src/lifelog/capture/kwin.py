"""Windows on KDE Plasma (KWin) under Wayland, through KWin's scripting over D-Bus (the pixels
come through the desktop portal: KWin offers no wlr-screencopy).

KWin lists its windows to no other program, but it runs scripts it is handed on the session bus:
``org.kde.KWin /Scripting`` ``loadScript(path, name)`` returns a script id, ``run`` on the script's
object (``/Scripting/Script<id>`` from Plasma 6, ``/<id>`` in 5.27) runs it once, and
``unloadScript(name)`` drops it. lifelog's script (``SCRIPT``) reads every window KWin manages and
hands them back with ``callDBus`` as one JSON string: a method call on lifelog's own connection
(``org.lifelog.KWinWindows.Windows`` on ``/org/lifelog/KWinWindows``), ~3 ms after ``run``. jeepney's
blocking connection drops an incoming call that no filter is waiting for, so the filter is set
before ``run``. Each query loads, runs and unloads the script (6-12 ms in all on KWin 5.27): no
state is left in KWin, and a KWin that restarted is simply asked again.

A window carries ``resourceClass`` (X11 WM_CLASS class, lower case; a Wayland client's app id),
``resourceName``, ``caption``, ``pid``, ``frameGeometry`` (with the title bar KWin draws; without
a client's own shadows), ``clientGeometry`` (Plasma 6; 5.27 scripts cannot read it, and the frame
stands in), ``active``, ``minimized``, its desktops, its output (``output.name`` from Plasma 6,
the screen's number in 5.27) and ``stackingOrder`` (higher is drawn above).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from lifelog.capture.window import TopWindow
from lifelog.errors import CaptureUnavailable
from lifelog.models import Box, VisibleWindow, WindowInfo

log = logging.getLogger(__name__)

KWIN = "org.kde.KWin"
INTERFACE, OBJECT = "org.lifelog.KWinWindows", "/org/lifelog/KWinWindows"
TIMEOUT_S = 1.0  # a query runs at every captured frame: a KWin that does not answer costs this much

SCRIPT = """\
// lifelog: every window KWin manages, handed once to the program that loaded this script.
(function () {
    const windows = workspace.windowList ? workspace.windowList() : workspace.clientList();
    const stacking = workspace.stackingOrder || [];
    const current = workspace.currentDesktop;
    const onCurrent = function (w) {
        if (w.onAllDesktops) return true;
        if (w.desktops) return w.desktops.some(function (d) { return d === current || d.id === current.id; });
        return w.desktop === current;
    };
    const rect = function (g) { return [g.x, g.y, g.width, g.height]; };
    const out = [];
    for (let i = 0; i < windows.length; i++) {
        const w = windows[i];
        if (w.deleted) continue;
        out.push({
            id: String(w.internalId),
            app: String(w.resourceClass || ""),
            instance: String(w.resourceName || ""),
            title: String(w.caption || ""),
            pid: w.pid || 0,
            frame: rect(w.frameGeometry),
            client: rect(w.clientGeometry || w.frameGeometry),
            active: !!w.active,
            minimized: !!w.minimized,
            desktop: onCurrent(w),
            output: w.output ? String(w.output.name) : String(w.screen),
            order: typeof w.stackingOrder === "number" ? w.stackingOrder : stacking.indexOf(w),
            transientFor: w.transientFor ? String(w.transientFor.internalId) : "",
        });
    }
    callDBus(SERVICE, "/org/lifelog/KWinWindows", "org.lifelog.KWinWindows", "Windows", JSON.stringify(out));
})();
"""


def _id(internal: str) -> int:
    """A window's number from KWin's ``internalId`` (a UUID); 0 for none."""
    try:
        return uuid.UUID(internal).int
    except ValueError:
        return 0


def _box(rect: list) -> Box:
    x, y, w, h = (round(float(v)) for v in rect)
    return (x, y, x + w, y + h)


def top_window(w: Mapping) -> TopWindow:
    return TopWindow(
        id=_id(str(w.get("id", ""))),
        box=_box(w["frame"]),
        client_box=_box(w.get("client") or w["frame"]),
        app=str(w.get("app") or ""),
        instance=str(w.get("instance") or ""),
        title=str(w.get("title") or ""),
        pid=int(w.get("pid") or 0),
        transient_for=_id(str(w.get("transientFor") or "")),
        focused=bool(w.get("active")),
    )


def shown(windows: Sequence[Mapping]) -> list[Mapping]:
    """The windows drawn on the current desktop (not minimized), topmost first."""
    drawn = [w for w in windows if w.get("desktop", True) and not w.get("minimized")]
    return sorted(drawn, key=lambda w: -int(w.get("order", 0)))


class ReportedWindows:
    """A window source whose desktop reports its windows as JSON (the KWin script's, the GNOME
    extension's): subclasses give ``windows()`` and a ``desktop`` name for the log."""

    desktop = ""

    def windows(self) -> list[dict]:
        raise NotImplementedError

    def stack(self) -> list[TopWindow]:
        try:
            return [top_window(w) for w in shown(self.windows())]
        except (OSError, ValueError, TimeoutError, KeyError, TypeError) as exc:
            log.debug("%s's windows unknown: %s", self.desktop, exc)
            return []

    def visible(self) -> list[VisibleWindow]:
        return [w.visible() for w in self.stack() if w.app or w.title]

    def active(self) -> WindowInfo:
        focused = next((w for w in self.stack() if w.focused), None)
        return WindowInfo(focused.app or focused.instance, focused.title) if focused else WindowInfo()


class KWinWindowSource(ReportedWindows):
    """KWin's windows with their rectangles and focus, read by a KWin script at each query.
    Raises CaptureUnavailable when built without a session bus or KWin's scripting; never raises
    from a query (a KWin that does not answer gives an unknown window and an empty list)."""

    desktop = "KWin"

    def __init__(self, environ: Mapping[str, str] = os.environ, timeout_s: float = TIMEOUT_S) -> None:
        from jeepney.io.blocking import open_dbus_connection

        from lifelog.capture.portal import bus_address

        address = bus_address(environ)
        try:
            self._conn = open_dbus_connection(address)
        except (OSError, ValueError) as exc:
            raise CaptureUnavailable(f"Cannot reach the session bus ({address}): {exc}.") from exc
        self.timeout_s = timeout_s
        self._folder = Path(tempfile.mkdtemp(prefix="lifelog-kwin-"))  # 0700: KWin runs as this user
        self._script = self._folder / "windows.js"
        self._script.write_text(SCRIPT.replace("SERVICE", json.dumps(self._conn.unique_name)))
        self._name = f"lifelog-windows-{os.getpid()}-{id(self)}"
        self._paths = ["/Scripting/Script{}", "/{}"]  # Plasma 6, then 5.27; the one that worked first
        try:
            self.windows()
        except (OSError, ValueError, TimeoutError) as exc:
            self.close()
            raise CaptureUnavailable(f"Cannot read KWin's windows through its scripting (D-Bus): {exc}.") from exc

    def windows(self) -> list[dict]:
        """Every window the script reports, as KWin gave it; raises OSError, TimeoutError."""
        from jeepney import MatchRule, new_method_return

        with self._conn.filter(MatchRule(type="method_call", interface=INTERFACE, path=OBJECT)) as calls:
            script = self._load()
            try:
                self._run(script)
                call = self._conn.recv_until_filtered(calls, timeout=self.timeout_s)
                self._conn.send(new_method_return(call))
            finally:
                self._call("/Scripting", "org.kde.kwin.Scripting", "unloadScript", "s", (self._name,))
        report = json.loads(call.body[0])
        if not isinstance(report, list):
            raise ValueError("KWin's script reported no list of windows")
        return report

    def _load(self) -> int:
        for _ in range(2):
            (script,) = self._call(
                "/Scripting", "org.kde.kwin.Scripting", "loadScript", "ss", (str(self._script), self._name)
            )
            if script >= 0:
                return int(script)
            self._call("/Scripting", "org.kde.kwin.Scripting", "unloadScript", "s", (self._name,))  # left loaded
        raise OSError("KWin refused to load lifelog's script")

    def _run(self, script: int) -> None:
        errors = []
        for path in list(self._paths):
            try:
                self._call(path.format(script), "org.kde.kwin.Script", "run")
            except OSError as exc:
                errors.append(str(exc))
                continue
            self._paths.remove(path)
            self._paths.insert(0, path)
            return
        raise OSError("; ".join(errors))

    def _call(self, path: str, interface: str, method: str, signature: str | None = None, body: tuple = ()) -> tuple:
        from jeepney import DBusAddress, MessageType, new_method_call

        message = new_method_call(DBusAddress(path, KWIN, interface), method, signature, body)
        reply = self._conn.send_and_get_reply(message, timeout=self.timeout_s)
        if reply.header.message_type == MessageType.error:
            raise OSError(f"{method}: {reply.header.fields.get(4, 'error')} {' '.join(map(str, reply.body))}".strip())
        return tuple(reply.body)

    def close(self) -> None:
        self._conn.close()
        shutil.rmtree(self._folder, ignore_errors=True)
