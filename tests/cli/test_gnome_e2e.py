"""`lifelog record` on a real GNOME (gnome-shell 43 headless, virtual monitor) through the real
desktop portal: xdg-desktop-portal, xdg-desktop-portal-gnome and mutter's PipeWire stream, the
windows through lifelog's Shell extension. The first start shows GNOME's Screen Share dialog,
answered here by keys as a person would; the second start records without any dialog."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lifelog.capture.portal import TOKEN_FILE
from lifelog.paths import Paths
from tests.cli.helpers import lifelog, lifelog_json
from tests.support.gnome import HeadlessGnome
from tests.support.gnome_portal import GnomePortal
from tests.support.recording import wait_for_frames
from tests.support.wait import wait_for

NOTES = "Quarterly planning with Orinoco team\nBudget review moves to Thursday\n"
LATER = "Harbour inspection rescheduled to Friday\n"


@pytest.fixture
def gnome():
    desktop = HeadlessGnome(1280, 720)
    yield desktop
    desktop.stop()


def _record(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "lifelog.cli.app", "record", "--no-audio", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stored(env: dict) -> int:
    status = lifelog("status", "--json", env=env, check=False, timeout=60)
    return json.loads(status.stdout).get("frames_stored", 0) if status.returncode == 0 else 0


def _stop(rec: subprocess.Popen) -> str:
    rec.terminate()
    try:
        _, err = rec.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        rec.kill()  # e.g. its capture still waiting in a dialog
        rec.communicate()
        raise
    assert rec.returncode == 0, err
    return err


def test_gnome_is_recorded_through_its_own_portal_and_asks_once(gnome, home):
    portal = GnomePortal(gnome)
    env = {**gnome.env, "LIFELOG_HOME": str(home)}
    gnome.show_text(NOTES, title="planning notes", app_id="notesterm")

    rec = _record(env)
    try:
        portal.share_screen()
        wait_for_frames(env, rec, 1)
    finally:
        _stop(rec)
    token = Paths(home).data / TOKEN_FILE
    assert token.exists() and token.stat().st_mode & 0o777 == 0o600
    hits = lifelog_json("search", "Orinoco", env=env)
    assert hits and hits[0]["app"] == "notesterm" and hits[0]["window"] == "planning notes", hits

    stored = lifelog_json("status", env=env)["frames_stored"]
    gnome.show_text(LATER, title="inspection", app_id="harbourterm")
    rec = _record(env)  # the kept grant: no dialog, or the cast would wait for a person
    try:
        wait_for(
            lambda: portal.dialog_open() or _stored(env) > stored, 120, "a frame or a dialog", interval=1, process=rec
        )
        assert not portal.dialog_open(), "the second start asked again"
    finally:
        _stop(rec)
    hits = lifelog_json("search", "Harbour", env=env)
    assert hits and hits[0]["app"] == "harbourterm" and hits[0]["window"] == "inspection", hits
