"""The exclusion canary, on a real X screen: a window whose title matches ``exclude_titles``, an
excluded app with popups of its own (an override-redirect menu of its class, a dialog transient
for it with no class at all) and a private-browsing window each show unique words while
``lifelog record`` runs beside an ordinary window. Afterwards no byte of any file in the data
folder (nor anything the recorder printed) holds those words or titles; their rectangles are
black in every stored frame; the ordinary window is found by search; and a screen covered by
an excluded window to the end of the recording leaves an ``excluded window`` gap."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lifelog.capture.window import X11WindowSource
from lifelog.config import PRIVATE_BROWSING_TITLES
from lifelog.paths import Paths
from tests.cli.helpers import lifelog, lifelog_json
from tests.support.recording import assert_black, wait_for_frames

pytestmark = [pytest.mark.xvfb, pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool is not installed")]

POPUP = Path(__file__).resolve().parents[1] / "capture" / "xpopup.py"
NORMAL = "Quarterly supplier report\nInvoice 4821 from Northwind Traders is overdue\n"
TITLED = ("Payroll ledger", "Marmalade Kettle harbour")  # (title, words shown)
APP = ("keeper vault", "Walrus Pineapple quarry")
MENU = "Octopus Saxophone meadow"  # an override-redirect popup of the excluded app's class
DIALOG = "Hedgehog Trombone lantern"  # transient for the excluded app's window, no class
PRIVATE = ("Mozilla Firefox Private Browsing", "Lighthouse Cinnamon orchard")
NEEDLES = [
    "Marmalade",
    "Kettle",
    "Walrus",
    "Pineapple",
    "Octopus",
    "Saxophone",
    "Hedgehog",
    "Trombone",
    "Lighthouse",
    "Cinnamon",
    "Payroll ledger",
    "keeper vault",
    "Private Browsing",
    "SecretApp",
]


@pytest.fixture
def env(screen, home):
    return {**os.environ, "DISPLAY": screen.display, "LIFELOG_HOME": str(home)}


def xterm(screen, tmp_path: Path, title: str, text: str, geometry: str, *extra: str) -> subprocess.Popen:
    page = tmp_path / f"{len(screen._windows)}.txt"
    page.write_text(text + "\n")
    proc = subprocess.Popen(
        [
            "xterm",
            *extra,
            "-geometry",
            geometry,
            "-fa",
            "DejaVu Sans Mono",
            "-fs",
            "14",
            "-T",
            title,
            "-xrm",
            "XTerm*allowTitleOps: false",
            "-e",
            "sh",
            "-c",
            f"cat '{page}'; exec sleep 100000",
        ],
        env=screen.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    screen._windows.append(proc)
    screen._focus(title, proc)
    return proc


def popup(screen, text: str, geometry: str, *extra: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(POPUP), "--text", text, "--geometry", geometry, *extra],
        env=screen.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    screen._windows.append(proc)
    assert proc.stdout.readline().startswith("0x"), "the popup did not map"
    time.sleep(0.3)


def window_id(screen, title: str) -> str:
    return subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", title],
        env=screen.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]


def wait_for_hearing(env: dict, rec: subprocess.Popen, pulse, wav: Path) -> None:
    """Play ``wav`` until the recorder has transcribed something: its audio source is open."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and rec.poll() is None:
        pulse.play(wav, to="system")
        for _ in range(10):
            time.sleep(1)
            status = lifelog("status", "--json", env=env, check=False, timeout=60)
            if status.returncode == 0 and json.loads(status.stdout).get("transcripts", 0) >= 1:
                return
    raise AssertionError(f"the recorder heard nothing (exit {rec.poll()})")


def test_excluded_windows_never_reach_disk(screen, env, tmp_path, home):
    titles = list(PRIVATE_BROWSING_TITLES) + ["(?i)payroll ledger"]
    lifelog("config", "set", "exclude_titles", json.dumps(titles), env=env)
    lifelog("config", "set", "exclude_apps", '["secretapp"]', env=env)  # any case: the class is SecretApp

    xterm(screen, tmp_path, "report", NORMAL, "70x6+1100+760")
    xterm(screen, tmp_path, TITLED[0], TITLED[1], "50x5+20+20")
    xterm(screen, tmp_path, PRIVATE[0], PRIVATE[1], "50x5+1100+20")
    xterm(screen, tmp_path, APP[0], APP[1], "50x5+20+330", "-class", "SecretApp")  # focused last
    popup(screen, MENU, "560x60+20+560", "--wm-class", "SecretApp", "--override-redirect")
    popup(screen, DIALOG, "560x60+20+700", "--transient-for", window_id(screen, APP[0]))
    source = X11WindowSource(screen.display)
    excluded = [
        w.box
        for w in source.stack()
        if w.title in (TITLED[0], APP[0], PRIVATE[0]) or w.app == "SecretApp" or w.transient_for
    ]
    source.close()
    assert len(excluded) == 5

    rec = subprocess.Popen(
        [sys.executable, "-m", "lifelog.cli.app", "record", "--no-audio", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_frames(env, rec, 1)
        time.sleep(2)
        popup(screen, "nothing to see", "1920x1080+0+0", "--title", PRIVATE[0])  # covers the screen
        time.sleep(4)
    finally:
        rec.send_signal(signal.SIGTERM)
        out, err = rec.communicate(timeout=300)
    assert rec.returncode == 0, err
    said = (out + err).lower()
    assert not [n for n in NEEDLES if n.lower() in said], err

    hits = lifelog_json("search", "northwind", env=env)
    assert hits and "Northwind" in hits[0]["text"]
    files = [p for p in home.rglob("*") if p.is_file() and p.name != "config.toml"]
    found = {
        n: [str(p.relative_to(home)) for p in files if n.lower().encode() in p.read_bytes().lower()]
        for n in NEEDLES + ["Northwind"]
    }
    assert found.pop("Northwind"), "the byte scan finds the ordinary window's text (or it proves nothing)"
    assert {n: where for n, where in found.items() if where} == {}

    ctx = lifelog("context", "--since", "10m", env=env).stdout
    assert "· excluded window]" in ctx and "Northwind" in ctx
    assert_black(Paths(home), excluded)


HEARD = "Remember to send the weekly report before the team meeting on Friday."
SECRET_SAID = "The vault combination is walrus pineapple quarry seven."


def test_no_sound_is_kept_while_an_excluded_app_has_focus(screen, home, tmp_path):
    from tests.support.pulse import PrivatePulse
    from tests.support.speech import speak, word_accuracy

    pulse = PrivatePulse()
    try:
        env = {**pulse.env, "DISPLAY": screen.display, "LIFELOG_HOME": str(home)}
        lifelog("config", "set", "exclude_apps", '["SecretApp"]', env=env)
        heard, secret = speak(HEARD, tmp_path / "heard.wav"), speak(SECRET_SAID, tmp_path / "secret.wav")
        normal = xterm(screen, tmp_path, "report", NORMAL, "70x6+1100+760")
        rec = subprocess.Popen(
            [sys.executable, "-m", "lifelog.cli.app", "record", "--audio-source", "system", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for_hearing(env, rec, pulse, speak("Good morning, this is a sound check.", tmp_path / "check.wav"))
            pulse.play(heard, to="system")
            time.sleep(1.5)  # a pause ends the chunk
            xterm(screen, tmp_path, APP[0], APP[1], "50x5+20+330", "-class", "SecretApp")  # takes the focus
            time.sleep(0.5)
            pulse.play(secret, to="system")
            time.sleep(0.5)
            screen._focus("report", normal)
            time.sleep(2)
        finally:
            rec.send_signal(signal.SIGTERM)
            out, err = rec.communicate(timeout=400)
    finally:
        pulse.stop()
    assert rec.returncode == 0, err
    assert json.loads(out)["audio_problems"] == {}
    ctx = lifelog("context", "--since", "10m", env=env).stdout
    heard_words = lifelog_json("search", "weekly report", env=env)
    assert heard_words and heard_words[0]["source"] == "heard"
    assert word_accuracy(HEARD, heard_words[0]["text"]) >= 0.8, heard_words
    assert "sound not kept: excluded window focused]" in ctx
    for word in ("combination", "walrus", "pineapple", "quarry"):
        assert word not in ctx.lower()
        assert not lifelog_json("search", word, env=env)
