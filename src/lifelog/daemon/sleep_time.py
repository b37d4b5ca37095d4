"""When the owner's digester may work: sleep time (issue 22 part 3).

The rule, asked before each pass and again between hours (``SleepTime.waits``):

1. **Capture and OCR first, always.** While a frame waits in the spool for OCR (the screen just
   changed) or the file is being rewritten, the digester waits: it stops within an hour's digest
   (0.1-0.3 s) of the change and resumes where it stopped at a later pass.
2. **On AC power, it works** (a machine with no battery is on AC), at nice 19 on one thread, so
   the user's own work always runs first.
3. **On battery, only while the user is away**: no keyboard or pointer input for :data:`IDLE_S`
   (the X server's idle time, MIT-SCREEN-SAVER) and the screen unchanged as long (no frame
   spooled or drained: the spool folder's time). Where the input is unknown (a Wayland session,
   no X display) the screen alone says.

Power comes from the kernel's ``/sys/class/power_supply``: an adapter (``Mains``, ``USB*``,
``Wireless``) with ``online`` 1 means AC; else a system battery ``Discharging`` means battery;
no system battery (peripherals' ``scope`` is ``Device``) means AC.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

IDLE_S = 60.0  # no input and an unchanged screen this long: the user is away
POWER_SUPPLY = Path("/sys/class/power_supply")
RETRY_DISPLAY_S = 60.0  # an X display that could not be opened is tried again after this
_ADAPTERS = ("Mains", "USB", "Wireless")  # (USB, USB_C, USB_PD, ...: types starting with these)


def on_ac_power(root: Path = POWER_SUPPLY) -> bool:
    """Whether the machine runs on AC power (see the module's docstring); True without a battery."""
    adapters, batteries = [], []
    try:
        supplies = sorted(root.iterdir())
    except OSError:
        return True  # no power supply class: a desktop, a VM, a container
    for dev in supplies:
        kind = _read(dev / "type")
        if kind == "Battery":
            if _read(dev / "scope") != "Device":  # a mouse's or a headset's battery is no power supply
                batteries.append(_read(dev / "status"))
        elif kind.startswith(_ADAPTERS):
            adapters.append(_read(dev / "online") == "1")
    if any(adapters) or not batteries:
        return True
    if adapters:
        return False  # adapters the kernel knows, none online
    return "Discharging" not in batteries


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


class InputIdle:
    """Seconds since the last keyboard or pointer input on the X display (MIT-SCREEN-SAVER, asked
    over the X protocol by python-xlib); None where unknown: a Wayland session (XWayland sees only
    the input of X windows), no display, no extension. Call it from one thread."""

    def __init__(self, display: str | None = None) -> None:
        self.display_name = display
        self._display = None
        self._tried = -RETRY_DISPLAY_S

    def __call__(self) -> float | None:
        root = self._root()
        if root is None:
            return None
        try:
            return root.screensaver_query_info().idle / 1000.0
        except Exception as exc:  # the X server went away: try again later
            log.debug("X idle time unknown: %s", exc)
            self.close()
            return None

    def _root(self):
        if self._display is None:
            if self.display_name is None and _wayland_session():
                return None
            if time.monotonic() - self._tried < RETRY_DISPLAY_S:
                return None
            self._tried = time.monotonic()
            try:
                from Xlib import display

                d = display.Display(self.display_name)
                if not d.has_extension("MIT-SCREEN-SAVER"):
                    d.close()
                    return None
                self._display = d
            except Exception as exc:  # no X server, no Xlib, a display refusing us
                log.debug("no X display for the idle time: %s", exc)
                return None
        return self._display.screen().root

    def close(self) -> None:
        d, self._display = self._display, None
        if d is not None:
            try:
                d.close()
            except Exception:
                pass


def _wayland_session() -> bool:
    return bool(os.environ.get("WAYLAND_DISPLAY")) or os.environ.get("XDG_SESSION_TYPE") == "wayland"


def screen_quiet_s(spool: Path) -> float:
    """Seconds since a frame was last spooled or drained (the spool folder's time): how long the
    screen has not changed. Infinite without a spool."""
    try:
        return max(0.0, time.time() - spool.stat().st_mtime)
    except OSError:
        return float("inf")


class SleepTime:
    """``waits()``: whether the digester must wait now (see the module's docstring). ``reason``
    says why it last did, or "" when it may work."""

    def __init__(
        self,
        work_waits: Callable[[], bool],
        *,
        spool: Path,
        on_ac: Callable[[], bool] = on_ac_power,
        input_idle: Callable[[], float | None] | None = None,
        idle_s: float = IDLE_S,
    ) -> None:
        self.work_waits = work_waits
        self.spool = spool
        self.on_ac = on_ac
        self.input_idle = input_idle if input_idle is not None else InputIdle()
        self.idle_s = idle_s
        self.reason = ""

    def waits(self) -> bool:
        self.reason = self._reason()
        return bool(self.reason)

    __call__ = waits

    def _reason(self) -> str:
        if self.work_waits():
            return "capture and OCR at work"
        if self.on_ac():
            return ""
        if screen_quiet_s(self.spool) < self.idle_s:
            return "on battery, the screen changed"
        idle = self.input_idle()
        if idle is not None and idle < self.idle_s:
            return "on battery, the user is at work"
        return ""

    def close(self) -> None:
        close = getattr(self.input_idle, "close", None)
        if close is not None:
            close()
