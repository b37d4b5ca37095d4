"""``lifelog daemon ...`` (the always-on owner of the timeline) and ``lifelog pause`` / ``resume``."""

from __future__ import annotations

import logging
import os
import sys

import typer

from lifelog.cli.common import JsonOpt, Runtime, err, install_stop_handlers, out, print_json
from lifelog.timespec import parse_duration, pause_seconds

daemon_app = typer.Typer(
    help="The background recorder that owns the timeline and serves every other command.", no_args_is_help=True
)
log = logging.getLogger(__name__)


@daemon_app.command("run")
def run() -> None:
    """Run the daemon in the foreground (what systemd starts): record, serve the socket, log to a file.

    Example: lifelog daemon run
    """
    from lifelog.daemon.owner import owned_recording
    from lifelog.daemon.recorder import StopSignals
    from lifelog.daemon.service import log_to_file, sd_notify

    rt = Runtime.load()
    rt.paths.ensure()
    if not sys.stderr.isatty():  # started detached: stderr is the log file already
        logging.getLogger().handlers.clear()
    log_to_file(rt.paths)
    signals = StopSignals()
    install_stop_handlers(signals)
    with owned_recording(rt.paths, rt.settings, role="daemon", warn=log.warning, signals=signals) as recorder:
        log.info("daemon ready: recording at %g fps, audio %s", rt.settings.fps, rt.settings.audio_source)
        sd_notify("READY=1")
        summary = recorder.run(None)
        sd_notify("STOPPING=1")
    log.info(
        "daemon stopped: %d frames processed, %d transcripts, %d left in the spool",
        summary.frames_processed,
        summary.transcripts,
        summary.left_in_spool,
    )


@daemon_app.command("start")
def start(json_out: bool = JsonOpt) -> None:
    """Start the daemon in the background and wait until it answers.

    Example: lifelog daemon start
    """
    from lifelog.daemon import service

    rt = Runtime.load()
    _passphrase_for_the_daemon(rt.paths)
    info = service.start(rt.paths)
    if json_out:
        print_json(info)
    elif info["already_running"]:
        err.print(f"lifelog is already running ({info['role']}, PID {info['pid']}, since {info['started']}).")
    else:
        err.print(f"lifelog daemon started (PID {info['pid']}); `lifelog daemon status` shows what it does.")


def _passphrase_for_the_daemon(paths) -> None:
    """An encrypted timeline's passphrase, asked here on the terminal and checked before the
    detached daemon starts; it inherits it in its environment (never in a file)."""
    from lifelog.store import keys

    if keys.is_encrypted(paths.data) and not os.environ.get(keys.PASSPHRASE_ENV):
        phrase = keys.get_passphrase(paths.data)
        keys.unwrap(keys.read_record(paths.data), phrase, keys.key_path(paths.data))  # wrong: one line, none started
        os.environ[keys.PASSPHRASE_ENV] = phrase


@daemon_app.command("stop")
def stop() -> None:
    """Stop the daemon (or a foreground `lifelog record`) after it stores what it captured.

    Example: lifelog daemon stop
    """
    from lifelog.daemon import service

    pid = service.stop(Runtime.load().paths)
    err.print("lifelog is not running." if pid is None else f"lifelog (PID {pid}) stopped.")


@daemon_app.command("restart")
def restart() -> None:
    """Stop the daemon if it runs, then start it.

    Example: lifelog daemon restart
    """
    from lifelog.daemon import service

    rt = Runtime.load()
    service.stop(rt.paths)
    info = service.start(rt.paths)
    err.print(f"lifelog daemon restarted (PID {info['pid']}).")


@daemon_app.command("status")
def status(json_out: bool = JsonOpt) -> None:
    """Whether the daemon runs: uptime, fps achieved, backlog, gaps, disk use, CPU and memory.

    Example: lifelog daemon status --json
    """
    from lifelog.api.client import find_owner
    from lifelog.api.status import render_lines

    owner = find_owner(Runtime.load().paths)
    if owner is None:
        if json_out:
            print_json({"running": False})
        else:
            err.print("lifelog is not running (`lifelog daemon start` starts it).")
        raise typer.Exit(3)
    try:
        data = {"running": True, **(owner.owner or {}), **owner.status()}
    finally:
        owner.close()
    if json_out:
        print_json(data)
        return
    out.print(f"lifelog {data['role']} running: PID {data['pid']} since {data['started']}", markup=False)
    for line in render_lines(data):
        out.print(line, markup=False)


@daemon_app.command("install")
def install(
    no_start: bool = typer.Option(False, "--no-start", help="Only write the unit; do not enable or start it."),
) -> None:
    """Install the daemon as a systemd user service, enabled and started (prints the launchd recipe on macOS).

    Example: lifelog daemon install
    """
    from lifelog.daemon import service

    _, message = service.install(start=not no_start)
    err.print(message, markup=False, highlight=False)


@daemon_app.command("uninstall")
def uninstall() -> None:
    """Stop, disable and remove the systemd user service.

    Example: lifelog daemon uninstall
    """
    from lifelog.daemon import service

    err.print(service.uninstall(), markup=False)


@daemon_app.command("logs")
def logs(
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines (Ctrl-C ends)."),
    lines: int = typer.Option(50, "--lines", "-n", min=1, help="How many of the last lines to show."),
) -> None:
    """Show the daemon's log.

    Example: lifelog daemon logs -f
    """
    from lifelog.daemon import service

    path = service.log_file(Runtime.load().paths)
    if not path.exists():
        err.print(f"No daemon log yet ({path}).")
        raise typer.Exit(1)
    if follow:
        try:
            service.follow(path, lines, typer.echo)
        except KeyboardInterrupt:
            return
    for line in service.tail(path, lines):
        typer.echo(line)


def pause(
    duration: str | None = typer.Argument(None, help="How long: 90s, 10m, 2h. Default: until `lifelog resume`."),
) -> None:
    """Pause recording (the timeline records the gap); it resumes by itself after DURATION.

    Example: lifelog pause 30m
    """
    seconds = pause_seconds(parse_duration(duration).total_seconds() if duration is not None else None, duration or "")
    timeline = Runtime.load().timeline()
    try:
        state = timeline.pause(seconds)
    finally:
        timeline.close()
    err.print("Paused " + (f"until {state['until']}." if state.get("until") else "until `lifelog resume`."))


def resume() -> None:
    """Resume recording after `lifelog pause`.

    Example: lifelog resume
    """
    timeline = Runtime.load().timeline()
    try:
        timeline.resume()
    finally:
        timeline.close()
    err.print("Recording resumed.")


def register(app: typer.Typer) -> None:
    app.add_typer(daemon_app, name="daemon")
    app.command()(pause)
    app.command()(resume)
