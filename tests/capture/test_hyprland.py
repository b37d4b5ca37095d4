"""Hyprland's windows. Hyprland is not in Debian 12, so no real Hyprland runs here: a real Unix
socket server in this test speaks its documented IPC (one command a connection, ``j/`` for JSON,
the reply until the server closes) with replies shaped as Hyprland 0.4x writes them."""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import pytest

from lifelog.capture.desktop import describe, open_window_source
from lifelog.capture.hyprland import HyprlandWindowSource
from lifelog.capture.wayland import Session, session
from lifelog.models import WindowInfo


def client(address, cls, title, at, size, workspace=1, **more):
    return {
        "address": address,
        "mapped": True,
        "hidden": False,
        "at": at,
        "size": size,
        "workspace": {"id": workspace, "name": str(workspace)},
        "floating": False,
        "pseudo": False,
        "monitor": 0,
        "class": cls,
        "title": title,
        "initialClass": cls,
        "initialTitle": title,
        "pid": 4242,
        "xwayland": False,
        "pinned": False,
        "fullscreen": 0,
        "fullscreenClient": 0,
        "grouped": [],
        "tags": [],
        "swallowing": "0x0",
        "focusHistoryID": 1,
        "inhibitingIdle": False,
        **more,
    }


CLIENTS = [
    client("0x5581a0c0", "kitty", "~/notes", [10, 50], [935, 1020], focusHistoryID=1),
    client("0x5581b0d0", "firefox", "Invoices - Mozilla Firefox", [955, 50], [955, 1020], focusHistoryID=0),
    client("0x5581c0e0", "pavucontrol", "Volume Control", [600, 300], [700, 500], floating=True, focusHistoryID=2),
    client("0x5581d0f0", "slack", "Slack", [10, 50], [1900, 1020], workspace=2, focusHistoryID=3),  # not shown
    client("0x5581e000", "Bitwarden", "Vault", [300, 200], [800, 600], hidden=True),  # a hidden group member
]
MONITORS = [
    {
        "id": 0,
        "name": "DP-1",
        "width": 1920,
        "height": 1080,
        "x": 0,
        "y": 0,
        "scale": 1.0,
        "activeWorkspace": {"id": 1, "name": "1"},
        "specialWorkspace": {"id": 0, "name": ""},
        "focused": True,
    }
]


class FakeHyprland:
    """A Unix-socket server answering Hyprland's IPC commands; ``seen`` lists the commands."""

    def __init__(self, path, replies):
        self.replies, self.seen = replies, []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(8)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                command = conn.recv(1024).decode()
                self.seen.append(command)
                conn.sendall(json.dumps(self.replies[command], indent=4).encode())

    def close(self):
        self.server.close()


@pytest.fixture
def hyprland():
    runtime = Path(tempfile.mkdtemp(prefix="hypr-"))  # short: a Unix socket's path has at most 107 bytes
    folder = runtime / "hypr" / "v0.45.2_1733300000_abcdef"
    folder.mkdir(parents=True)
    fake = FakeHyprland(
        folder / ".socket.sock", {"j/clients": CLIENTS, "j/monitors": MONITORS, "j/activewindow": CLIENTS[1]}
    )
    env = {
        "XDG_RUNTIME_DIR": str(runtime),
        "HYPRLAND_INSTANCE_SIGNATURE": folder.name,
        "WAYLAND_DISPLAY": "wayland-1",
        "XDG_CURRENT_DESKTOP": "Hyprland",
    }
    yield fake, env
    fake.close()
    shutil.rmtree(runtime)


def test_hyprland_windows_with_rectangles_focus_and_order(hyprland):
    fake, env = hyprland
    assert session(env) == Session("wayland", "hyprland")
    source = open_window_source(env)
    assert isinstance(source, HyprlandWindowSource)
    assert source.active() == WindowInfo("firefox", "Invoices - Mozilla Firefox")
    stack = source.stack()
    assert [w.app for w in stack] == ["pavucontrol", "firefox", "kitty"]  # floating above tiled; focused first
    assert stack[1].focused and not stack[0].focused
    assert stack[2].box == (10, 50, 945, 1070) and stack[2].client_box == stack[2].box
    assert [(w.app, w.title) for w in source.visible()] == [
        ("pavucontrol", "Volume Control"),
        ("firefox", "Invoices - Mozilla Firefox"),
        ("kitty", "~/notes"),
    ]
    assert {"j/clients", "j/monitors", "j/activewindow"} <= set(fake.seen)
    assert "windows: Hyprland IPC" in describe(env) and "capture: grim (wlr-screencopy)" in describe(env)


def test_no_focused_window_and_a_special_workspace(hyprland):
    fake, env = hyprland
    fake.replies["j/activewindow"] = {}
    fake.replies["j/monitors"] = [{**MONITORS[0], "specialWorkspace": {"id": -98, "name": "special:scratch"}}]
    fake.replies["j/clients"] = [
        *CLIENTS,
        client("0x5581f010", "foot", "scratch", [200, 200], [600, 400], workspace=-98),
    ]
    source = HyprlandWindowSource(env)
    assert source.active() == WindowInfo()
    assert [w.app for w in source.stack()][0] == "foot"  # the special workspace is drawn over the rest


def test_a_hyprland_that_went_away_is_no_crash(hyprland):
    fake, env = hyprland
    source = HyprlandWindowSource(env)
    fake.close()
    assert source.stack() == [] and source.visible() == [] and source.active() == WindowInfo()


def test_no_socket_means_no_window_source(tmp_path):
    env = {"XDG_RUNTIME_DIR": str(tmp_path), "HYPRLAND_INSTANCE_SIGNATURE": "gone", "WAYLAND_DISPLAY": "wayland-1"}
    assert not isinstance(open_window_source(env), HyprlandWindowSource)
