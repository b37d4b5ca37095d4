"""Running the owner as a background service: start and stop it, tell systemd it is ready,
install it as a systemd user unit (Linux) or say how with launchd (macOS), keep its log.

``lifelog daemon run`` is the service's foreground form (what systemd starts, ``Type=notify``);
``lifelog daemon start`` runs that same command detached, in its own session, with its
output in the log folder, and waits until it answers on its socket.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from lifelog.api.client import RemoteTimeline, find_owner
from lifelog.api.protocol import lock_path
from lifelog.daemon.ownership import read_owner
from lifelog.daemon.pids import command_line, is_lifelog_process, lock_is_held
from lifelog.errors import ServiceError
from lifelog.paths import Paths

log = logging.getLogger(__name__)

UNIT_NAME = "lifelog.service"
LOG_NAME = "daemon.log"
START_TIMEOUT_S = 120.0  # loading the speech model on a slow machine
STOP_TIMEOUT_S = 300.0  # the final drain of what was captured


def log_file(paths: Paths) -> Path:
    return paths.logs / LOG_NAME


def log_to_file(paths: Paths, verbose: bool = False) -> None:
    """The daemon's log: a rotating file (5 x 5 MB) in the log folder, private."""
    paths.ensure()
    handler = logging.handlers.RotatingFileHandler(log_file(paths), maxBytes=5_000_000, backupCount=5)
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)


def sd_notify(state: str) -> bool:
    """Tell systemd (``Type=notify``) about our state, e.g. ``READY=1``; no-op outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # an abstract socket
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(state.encode())
    return True


def daemon_command() -> list[str]:
    return [sys.executable, "-m", "lifelog.cli.app", "daemon", "run"]


def start(paths: Paths, timeout: float = START_TIMEOUT_S) -> dict:
    """Start ``lifelog daemon run`` detached and wait until it answers; its health."""
    running = find_owner(paths)
    if running is not None:
        running.close()
        return {**_health(running), "already_running": True}
    paths.ensure()
    with open(log_file(paths), "ab") as out:
        proc = subprocess.Popen(
            daemon_command(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
            env=os.environ.copy(),
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        owner = find_owner(paths)
        if owner is not None:
            owner.close()
            health = _health(owner)
            if health.get("pid") == proc.pid:
                return {**health, "already_running": False}
            raise ServiceError(f"Another lifelog (PID {health.get('pid')}) took the timeline first.")
        if proc.poll() is not None:
            raise ServiceError(
                f"The daemon exited at start (code {proc.returncode}): {last_line(paths)} See `lifelog daemon logs`."
            )
        time.sleep(0.1)
    raise ServiceError(f"The daemon (PID {proc.pid}) did not answer within {timeout:g} s; see `lifelog daemon logs`.")


def _health(remote: RemoteTimeline) -> dict:
    """The owner's health, as ``find_owner`` read it (it does for every timeline it returns)."""
    if remote.owner is None:
        raise ServiceError("The running lifelog gave no health.")
    return remote.owner


def stop(paths: Paths, timeout: float = STOP_TIMEOUT_S) -> int | None:
    """Ask the owner to stop (it drains what was captured first) and wait for it; its PID, or
    None if none ran."""
    owner = find_owner(paths)
    if owner is not None:
        pid = _health(owner)["pid"]
        try:
            owner.stop()
        finally:
            owner.close()
    else:
        pid = silent_owner(paths)
        if pid is None:
            return None
        os.kill(pid, signal.SIGTERM)  # an owner that no longer answers: the signal stops it cleanly
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            raise ServiceError(
                f"The lifelog owner (PID {pid}) is still finishing after {timeout:g} s; "
                f"it stops once its spool is stored (`kill {pid}` again to stop at once)."
            )
        time.sleep(0.1)
    return pid


def silent_owner(paths: Paths) -> int | None:
    """The PID of an owner that holds the lock but does not answer on the socket; None when no
    process holds the lock (the file then names a dead owner, whose PID may since belong to
    anything). :class:`ServiceError` when the holder is not lifelog: it is never signalled."""
    held = read_owner(paths)
    pid = held.get("pid") if isinstance(held, dict) else None
    if type(pid) is not int or pid <= 0 or not lock_is_held(paths) or not _alive(pid):
        return None
    if not is_lifelog_process(pid):
        raise ServiceError(
            f"{lock_path(paths)} is locked and names PID {pid} ({' '.join(command_line(pid))[:80]}), "
            "which is not lifelog: nothing was signalled. Find what holds the lock with "
            f"`fuser {lock_path(paths)}`."
        )
    return pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited: only its parent's reaping is left
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def last_line(paths: Paths) -> str:
    lines = tail(log_file(paths), 1)
    return lines[-1].strip() if lines else "(no log)"


def tail(path: Path, n: int) -> list[str]:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024 * max(1, n // 200)))
            return fh.read().decode(errors="replace").splitlines()[-n:]
    except FileNotFoundError:
        return []


def follow(path: Path, n: int, out) -> None:
    """Print the last ``n`` lines, then new ones as they come (until Ctrl-C)."""
    for line in tail(path, n):
        out(line)
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        while True:
            raw = fh.readline()
            if raw:
                out(raw.decode(errors="replace").rstrip("\n"))
            else:
                time.sleep(0.3)
                if path.exists() and path.stat().st_size < fh.tell():  # rotated
                    fh.close()
                    fh = open(path, "rb")


# -- systemd / launchd ------------------------------------------------------------------------


def unit_path() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "systemd" / "user" / UNIT_NAME


def unit_text(env: dict[str, str]) -> str:
    """The systemd user unit: Type=notify (ready once the socket answers), SIGTERM to the
    owner only (KillMode=mixed: it stops its capture processes and drains), restart on failure.

    It belongs to the desktop session: started with ``graphical-session.target`` (so the
    session has already given the user manager its ``DISPLAY`` or ``WAYLAND_DISPLAY``), stopped
    with it (``PartOf``), and started again by the next session, X11 or Wayland alike. The
    display variables come from the user manager's environment at each start, never from the
    shell that ran ``daemon install``; only ``LIFELOG_HOME`` is kept from there."""
    keep = {k: env[k] for k in ("LIFELOG_HOME",) if env.get(k)}
    lines = [
        "[Unit]",
        "Description=lifelog: record the screen and audio into a private, searchable timeline",
        "PartOf=graphical-session.target",
        "After=graphical-session.target",
        "",
        "[Service]",
        "Type=notify",
        "NotifyAccess=main",
        f"ExecStart={shlex.join(daemon_command())}",
        *[f"Environment={shlex.quote(f'{k}={v}')}" for k, v in sorted(keep.items())],
        "KillMode=mixed",
        "TimeoutStopSec=300",
        "Restart=on-failure",
        "RestartSec=5",
        "UMask=0077",
        "",
        "[Install]",
        "WantedBy=graphical-session.target",
        "",
    ]
    return "\n".join(lines)


LAUNCHD_RECIPE = """lifelog runs as a launchd agent on macOS. Save this as
~/Library/LaunchAgents/org.lifelog.daemon.plist, then run
`launchctl load -w ~/Library/LaunchAgents/org.lifelog.daemon.plist`:

<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
  <key>Label</key><string>org.lifelog.daemon</string>
  <key>ProgramArguments</key><array>{args}</array>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
</dict></plist>
"""


def install(*, start: bool = True) -> tuple[Path | None, str]:
    """Write (and enable and start) the user unit; (unit path or None, what was done)."""
    if sys.platform == "darwin":
        args = "".join(f"<string>{a}</string>" for a in daemon_command())
        return None, LAUNCHD_RECIPE.format(args=args)
    path = unit_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(unit_text(dict(os.environ)))
    if not start:
        return path, f"Wrote {path}. Start it with `systemctl --user enable --now {UNIT_NAME}`."
    if not shutil.which("systemctl"):
        return path, f"Wrote {path}, but systemctl is not here: start the daemon with `lifelog daemon start`."
    for args in (["daemon-reload"], ["enable", "--now", UNIT_NAME]):
        done = subprocess.run(["systemctl", "--user", *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise ServiceError(
                f"Wrote {path}, but `systemctl --user {' '.join(args)}` failed: "
                f"{(done.stderr or done.stdout).strip().splitlines()[-1:] or ['?']}"
            )
    return path, f"Installed {path}; enabled and started (`systemctl --user status {UNIT_NAME}`)."


def uninstall() -> str:
    path = unit_path()
    if shutil.which("systemctl") and path.exists():
        subprocess.run(["systemctl", "--user", "disable", "--now", UNIT_NAME], capture_output=True)
    if not path.exists():
        return f"No {UNIT_NAME} installed."
    path.unlink()
    if shutil.which("systemctl"):
        subprocess.run(["systemctl", "--user", "daemon-reload"], capture_output=True)
    return f"Removed {path}."
