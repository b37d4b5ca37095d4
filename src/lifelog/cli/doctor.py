"""``lifelog doctor``: what works on this machine."""

from __future__ import annotations

import typer

from lifelog.cli.common import JsonOpt, Runtime, out, print_json


def doctor(json_out: bool = JsonOpt) -> None:
    """Check screen access, the active-window source, the OCR engine and its execution
    providers, audio devices, the ASR engines (CUDA or CPU), the tokenizer and the store.
    Exits 1 if something essential is broken.

    Example: lifelog doctor
    """
    from lifelog.api.doctor import run_checks

    rt = Runtime.load()
    checks = run_checks(rt.paths, rt.settings)
    if json_out:
        print_json(checks)
    else:
        for c in checks:
            mark = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}[c["status"]]
            out.print(f"[{mark}] {c['name']:<20} {c['detail']}", markup=False, highlight=False)
    if any(c["status"] == "fail" for c in checks):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(doctor)
