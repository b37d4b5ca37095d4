"""`lifelog replay` end to end: the real command on a data folder with real stored screens writes
one HTML page (0600, the same bytes whether it answers itself or the running owner answers), and
that page in a real Chromium window under Xvfb, with every request sent to a proxy that counts
them, shows the first frame and its text, moves with the arrow keys, finds text with `/` and
Enter, and sends nothing anywhere."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import threading
import time
from datetime import timedelta

import numpy as np
import pytest

from lifelog.api.server import OwnerServer
from lifelog.api.timeline import LocalTimeline
from lifelog.daemon.ownership import OwnerLock
from lifelog.models import Transcript
from lifelog.store import Store
from tests.cli.helpers import lifelog
from tests.replay.screens import T0, record

RANGE = [
    "--since",
    (T0 - timedelta(minutes=1)).isoformat() + "+00:00",
    "--until",
    (T0 + timedelta(hours=2)).isoformat() + "+00:00",
]
# Chromium's own background requests (extension and component updates, sign-in, pings), off so
# that whatever reaches the proxy came from the page.
QUIET_CHROMIUM = (
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-breakpad",
    "--no-pings",
    "--no-service-autorun",
    "--safebrowsing-disable-auto-update",
    "--disable-features=MediaRouter,OptimizationHints,AutofillServerCommunication,CertificateTransparencyComponentUpdater",
)
# Hosts Chromium itself calls whatever it shows (its clock, component updates, sign-in), with
# every switch above: the proxy sees them even for an empty page.
CHROMIUM_SERVICES = {"clients2.google.com", "update.googleapis.com", "accounts.google.com"}
FRAMES = 35  # tests/replay/screens.py stores 35 screens in the range


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    rec = record(tmp_path_factory.mktemp("cli-replay") / "home")
    said = Transcript(T0 + timedelta(seconds=10), T0 + timedelta(seconds=14), "mic", "test", "send the invoice today")
    with rec.store.write() as w:
        w.add_transcripts([said])
    return rec.paths


@pytest.fixture
def env(home):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LIFELOG_")}
    return {**clean, "LIFELOG_HOME": str(home.home)}


@pytest.fixture(scope="module")
def page(home, tmp_path_factory):
    out = tmp_path_factory.mktemp("page") / "morning.html"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LIFELOG_")}, "LIFELOG_HOME": str(home.home)}
    proc = lifelog("replay", *RANGE, "-o", str(out), env=env)
    assert proc.stdout == "" and f"Wrote {out}: {FRAMES} frames" in proc.stderr
    return out


def test_the_page_is_private_and_the_owner_writes_the_same_bytes(page, env, home, tmp_path):
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    served = tmp_path / "served.html"
    lock = OwnerLock(home, "test")
    store = Store.open_owner(home.db)
    server = OwnerServer(home, LocalTimeline(home, store), lock.info).start()
    try:
        proc = lifelog("replay", *RANGE, "--every", "1m", "-o", str(served), env=env)
        lifelog("replay", *RANGE, "-o", str(served), env=env)
    finally:
        server.stop()
        store.close()
        lock.release()
    assert f"Sampled: 5 of {FRAMES} frames, at most one per 1 min per monitor." in proc.stderr
    assert served.read_bytes() == page.read_bytes()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--since", "2026-11-25T09:00:00+00:00", "--until", "2026-11-25T10:00:00+00:00"], "No screens were recorded"),
        ([*RANGE, "--every", "0s"], "--every 0s: give at least 1s"),
        ([*RANGE, "--every", "soon"], "Bad duration 'soon'"),
    ],
)
def test_bad_requests_are_one_line_and_write_nothing(env, tmp_path, args, says):
    out = tmp_path / "x.html"
    proc = lifelog("replay", *args, "-o", str(out), env=env, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and says in proc.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_an_unwritable_output_is_one_line(env, tmp_path):
    (tmp_path / "ro").mkdir(mode=0o500)
    outs = [tmp_path / "missing" / "x.html"] + (
        [tmp_path / "ro" / "x.html"] if os.geteuid() != 0 else []
    )  # root writes anywhere
    for out in outs:
        proc = lifelog("replay", *RANGE, "-o", str(out), env=env, check=False)
        assert proc.returncode == 2 and proc.stderr.startswith(f"lifelog: error: Cannot write {out}")
    assert list((tmp_path / "ro").iterdir()) == []


class _Nowhere:
    """A proxy that answers nothing and counts who came: Chromium sends every request to it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.asked: list[str] = []  # each request's first line
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                con, _ = self.sock.accept()
            except OSError:
                return
            con.settimeout(2)
            try:
                self.asked.append(con.recv(200).split(b"\r\n")[0].decode("latin-1"))
            except OSError:
                self.asked.append("?")
            con.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def ocr():
    from lifelog.tokenize_media.ocr import get_engine

    return get_engine()


def _read(ocr, screen, shot: np.ndarray, box: tuple[int, int, int, int]) -> str:
    left, top, right, bottom = box
    return " ".join(line.text for line in ocr.recognize(np.ascontiguousarray(shot[top:bottom, left:right])))


def _host(request_line: str) -> str:
    """The host a proxied request is for: ``CONNECT host:443 HTTP/1.1`` or ``GET http://host/...``."""
    target = request_line.split(" ")[1] if " " in request_line else request_line
    return target.removeprefix("http://").removeprefix("https://").split("/")[0].rsplit(":", 1)[0]


def _grab(screen) -> np.ndarray:
    import mss

    with mss.MSS() as grabber:  # DISPLAY is the session's X screen (the screen fixture)
        raw = grabber.grab(grabber.monitors[1])
        return np.asarray(raw)[:, :, 2::-1].copy()  # BGRA -> RGB


def _title(screen) -> str:
    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", "lifelog replay"],
        env=screen.env,
        capture_output=True,
        text=True,
    ).stdout.split()
    names = [
        subprocess.run(["xdotool", "getwindowname", w], env=screen.env, capture_output=True, text=True).stdout
        for w in found
    ]
    return " ".join(names)


def _keys(screen, *keys: str, shows: str) -> str:
    """Press ``keys`` in the focused window; wait (up to 20 s) for the title to say ``shows``."""
    for key in keys:
        subprocess.run(["xdotool", "key", key], env=screen.env, check=True, timeout=10)
    deadline = time.monotonic() + 20
    while shows not in (title := _title(screen)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return title


@pytest.mark.xvfb
@pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool is not installed")
def test_in_chromium_the_first_frame_its_text_the_keys_and_no_request(screen, page, tmp_path, ocr):
    nowhere = _Nowhere()
    try:
        screen.show_page(
            page,
            title="lifelog replay",
            profile=tmp_path / "profile",
            flags=(
                f"--proxy-server=http://127.0.0.1:{nowhere.port}",
                "--proxy-bypass-list=<-loopback>",
                *QUIET_CHROMIUM,
            ),
        )
        assert f"frame 1 of {FRAMES}" in _title(screen)
        shot = _grab(screen)
        width = shot.shape[1]
        assert (shot[80:400, 40:700] > 200).all(axis=2).mean() > 0.5  # the browser's light page is shown...
        assert "Invoice 4821" in _read(ocr, screen, shot, (0, 30, width * 3 // 5, 400))  # ...with its text
        beside = _read(ocr, screen, shot, (width * 3 // 5, 30, width, 700))
        assert "Total due" in beside and "send the invoice today" in beside  # read and heard
        assert "Paid on 2 December" not in beside

        assert f"frame 2 of {FRAMES}" in _keys(screen, "Right", shows=f"frame 2 of {FRAMES}")
        beside = _read(ocr, screen, _grab(screen), (width * 3 // 5, 30, width, 700))
        assert "Paid on 2 December" in beside

        assert f"frame {FRAMES} of" in _keys(screen, "slash", "D", "a", "n", "a", "Return", shows=f"frame {FRAMES} of")
        assert f"frame {FRAMES - 1} of" in _keys(screen, "Escape", "Up", shows=f"frame {FRAMES - 1} of")
        assert f"frame {FRAMES - 2} of" in _keys(screen, "Left", shows=f"frame {FRAMES - 2} of")
    finally:
        nowhere.close()
    strays = [line for line in nowhere.asked if _host(line) not in CHROMIUM_SERVICES]
    assert strays == []  # nothing left the page: no request but Chromium's own reached the proxy
