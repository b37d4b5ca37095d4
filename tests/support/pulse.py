"""A private PulseAudio server for tests: a null sink as the system output (``vsink``) and a
virtual microphone (``vmic``, fed by the ``micsink`` null sink) as the default source."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


class PrivatePulse:
    def __init__(self) -> None:
        if not shutil.which("pulseaudio"):
            raise RuntimeError("pulseaudio is not installed: run `bash scripts/test.sh`, which installs it.")
        self.runtime = Path(tempfile.mkdtemp(prefix="lifelog-pulse-"))
        os.chmod(self.runtime, 0o700)
        self.env = {
            **os.environ,
            "XDG_RUNTIME_DIR": str(self.runtime),
            "PULSE_RUNTIME_PATH": str(self.runtime / "pulse"),
        }
        self.env.pop("PULSE_SERVER", None)
        self.proc = subprocess.Popen(
            [
                "pulseaudio",
                "--daemonize=no",
                "-n",
                "--exit-idle-time=-1",
                "--disallow-exit",
                "--load=module-native-protocol-unix",
                "--load=module-null-sink sink_name=vsink rate=16000 channels=1",
                "--load=module-null-sink sink_name=micsink rate=16000 channels=1",
                "--load=module-remap-source master=micsink.monitor source_name=vmic",
                "--load=module-always-sink",
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            if self._pactl("info").returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("private PulseAudio did not start")
        self._pactl("set-default-sink", "vsink", check=True)
        self._pactl("set-default-source", "vmic", check=True)

    def _pactl(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, check=check)

    def play(self, wav: Path, *, to: str) -> None:
        """Play a WAV file as system output (``to="system"``) or into the microphone (``"mic"``)."""
        sink = {"system": "vsink", "mic": "micsink"}[to]
        subprocess.run(["paplay", f"--device={sink}", str(wav)], env=self.env, check=True, timeout=60)

    def recording_streams(self) -> int:
        """How many streams are recording now (lifelog's capture of the system output and the mic)."""
        listed = self._pactl("list", "short", "source-outputs")
        return len(listed.stdout.splitlines()) if listed.returncode == 0 else 0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)
        shutil.rmtree(self.runtime, ignore_errors=True)
