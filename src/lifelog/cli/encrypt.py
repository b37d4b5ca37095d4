"""``lifelog encrypt`` / ``lifelog decrypt``: the timeline at rest, converted in place.

Both refuse while an owner runs (it holds the file and the key) and hold the owner lock
while they work, so none starts meanwhile. The conversion itself is ``store/convert.py``.
"""

from __future__ import annotations

import typer

from lifelog.cli.common import JsonOpt, Runtime, err, print_json


def _run(direction: str, json_out: bool) -> None:
    from lifelog.daemon.ownership import OwnerLock
    from lifelog.store import convert, keys

    rt = Runtime.load()
    rt.paths.ensure()
    lock = OwnerLock(rt.paths, direction)  # one line and exit 1 while the daemon or `record` runs
    try:
        first = direction == "encrypt" and not keys.is_encrypted(rt.paths.data)
        if direction == "decrypt" and not keys.is_encrypted(rt.paths.data):
            report = convert.decrypt(rt.paths, "")  # plaintext already: says so, changes nothing
        else:
            passphrase = keys.get_passphrase(rt.paths.data, confirm=first)
            report = getattr(convert, direction)(rt.paths, passphrase, progress=lambda m: err.print(f"{m} ..."))
    finally:
        lock.release()
    if json_out:
        print_json(report)
        return
    err.print(_summary(direction, report, first), markup=False)


def _summary(direction: str, report: dict, first: bool) -> str:
    rows = sum(report["rows"].values())
    done = "encrypted" if direction == "encrypt" else "decrypted"
    if report["database"] == "unchanged" and not report["files"] and not first:
        return f"The timeline is already {done}; nothing to do."
    text = (
        f"Timeline {done}: {rows:,} rows in {len(report['rows'])} tables copied, "
        f"{report['files']:,} frame and audio files {'sealed' if direction == 'encrypt' else 'opened'} "
        f"({report['seconds']:g} s)."
    )
    if first:
        text += " Keep the passphrase safe: without it nothing recorded can be read."
    return text


def register(app: typer.Typer) -> None:
    @app.command("encrypt")
    def encrypt(json_out: bool = JsonOpt) -> None:
        """Encrypt the timeline at rest (database, WAL, frames, audio) and all that follows.

        The passphrase comes from LIFELOG_PASSPHRASE or is asked on the terminal; the daemon and
        commands run without an owner need it too. Safe to interrupt: run it again to finish.

        Example: lifelog encrypt
        """
        _run("encrypt", json_out)

    @app.command("decrypt")
    def decrypt(json_out: bool = JsonOpt) -> None:
        """Turn an encrypted timeline back into plaintext files (needs the passphrase).

        Example: LIFELOG_PASSPHRASE=... lifelog decrypt
        """
        _run("decrypt", json_out)
