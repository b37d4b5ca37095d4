"""Windows on GNOME under Wayland, through lifelog's own GNOME Shell extension (the pixels come
through the desktop portal).

No D-Bus interface of GNOME Shell lists windows to other programs: ``org.gnome.Shell.Introspect``
``GetWindows`` answers only xdg-desktop-portal-gnome and -gtk ("GetWindows is not allowed" to
anyone else unless the Shell runs in unsafe mode, which only Looking Glass turns on) and gives
no position anyway; ``org.gnome.Shell.Eval`` answers ``(false, '')`` since GNOME 41 (both
checked on a headless gnome-shell 43.9). So lifelog bundles a small extension
(``gnome_extension/43`` for Shell 43-44, ``gnome_extension/45`` as an ES module from 45): enabled,
it exports ``org.lifelog.Windows.List`` on ``/org/lifelog/Windows`` under the Shell's own name,
which returns every window as JSON in the shape of lifelog's KWin script (``kwin.py``): frame and
client rectangles, focus, minimized, current workspace, monitor, stacking. ~1 ms a query.

Install it once (then log out and in: GNOME on Wayland loads new extensions at login)::

    cp -r <extension_folder()> ~/.local/share/gnome-shell/extensions/lifelog-windows@lifelog
    gnome-extensions enable lifelog-windows@lifelog
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path

from lifelog.capture.kwin import ReportedWindows
from lifelog.errors import CaptureUnavailable

log = logging.getLogger(__name__)

UUID = "lifelog-windows@lifelog"
SHELL, OBJECT, INTERFACE = "org.gnome.Shell", "/org/lifelog/Windows", "org.lifelog.Windows"
TIMEOUT_S = 1.0


def extension_folder(shell_version: str = "43") -> Path:
    """The bundled extension for a GNOME Shell version: the legacy one up to 44, the ES module after."""
    major = int(re.match(r"\d+", shell_version or "43")[0])  # type: ignore[index]
    return Path(__file__).parent / "gnome_extension" / ("45" if major >= 45 else "43")


def install_hint() -> str:
    target = f"~/.local/share/gnome-shell/extensions/{UUID}"
    return (
        f"GNOME's windows need lifelog's Shell extension: cp -r {extension_folder()} {target} (or the 45 folder "
        f"beside it for GNOME 45 on), log out and in, then gnome-extensions enable {UUID}."
    )


class GnomeWindowSource(ReportedWindows):
    """GNOME's windows from lifelog's extension. Raises CaptureUnavailable when built without a
    session bus or without the extension enabled; never raises from a query."""

    desktop = "GNOME"

    def __init__(self, environ: Mapping[str, str] = os.environ, timeout_s: float = TIMEOUT_S) -> None:
        from jeepney.io.blocking import open_dbus_connection

        from lifelog.capture.portal import bus_address

        address = bus_address(environ)
        try:
            self._conn = open_dbus_connection(address)
        except (OSError, ValueError) as exc:
            raise CaptureUnavailable(f"Cannot reach the session bus ({address}): {exc}.") from exc
        self.timeout_s = timeout_s
        try:
            self.windows()
        except (OSError, ValueError, TimeoutError) as exc:
            self._conn.close()
            raise CaptureUnavailable(f"{install_hint()} ({exc})") from exc

    def windows(self) -> list[dict]:
        from jeepney import DBusAddress, MessageType, new_method_call

        call = new_method_call(DBusAddress(OBJECT, SHELL, INTERFACE), "List")
        reply = self._conn.send_and_get_reply(call, timeout=self.timeout_s)
        if reply.header.message_type == MessageType.error:
            raise OSError(f"{reply.header.fields.get(4, 'error')} {' '.join(map(str, reply.body))}".strip())
        report = json.loads(reply.body[0])
        if not isinstance(report, list):
            raise ValueError("lifelog's GNOME extension reported no list of windows")
        return report

    def close(self) -> None:
        self._conn.close()
