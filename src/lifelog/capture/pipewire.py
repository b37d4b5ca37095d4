"""Frames of a PipeWire video stream (the desktop portal's screen cast), read through GStreamer.

A ``gst-launch-1.0`` child runs ``pipewiresrc`` on the portal's PipeWire connection (its file
descriptor is passed down) and writes raw BGRx frames to a pipe; a thread here reads them and
keeps the latest, which ``latest()`` hands to the capture loop. The venv stays free of GObject
bindings, and a crash in PipeWire or GStreamer ends a child, never the recorder.

    pipewiresrc fd=N path=NODE keepalive-time=T
      ! video/x-raw,max-framerate=F      the compositor is asked for no more than the capture rate
      ! videorate max-rate=F ! video/x-raw,framerate=F   a steady F: beyond it dropped before
                                         conversion, a gap filled with the last frame
      ! videoconvert ! video/x-raw,format=BGRx
      ! fdsink fd=M

A screen cast sends a frame only when the screen changes; ``keepalive-time`` resends the last one
after T ms of silence, so a change whose frame was dropped for coming too soon still arrives.
The output rate is fixed because mutter (GNOME) streams at a variable rate (``framerate=0/1``)
with buffers that carry no duration, on which GStreamer 1.22's ``videorate drop-only`` aborts
(``assertion failed: (GST_BUFFER_DURATION_IS_VALID (outbuf))``).
The frame size comes from the caps gst-launch prints (``-v``) for the sink before its first
frame, and again before a frame of another size.
"""

from __future__ import annotations

import logging
import os
import re
import select
import subprocess
import threading
import time
from collections.abc import Mapping

from lifelog.capture.screen import Shot
from lifelog.errors import CaptureUnavailable

log = logging.getLogger(__name__)

FIRST_FRAME_TIMEOUT_S = 10.0
_SINK_CAPS = re.compile(rb"GstFdSink:\w+\.GstPad:sink: caps = video/x-raw, (.*)")
_FIELD = re.compile(rb"(width|height)=\(int\)(\d+)")


def pipeline(fd: int, node: int, out_fd: int, fps: float) -> list[str]:
    """gst-launch-1.0's arguments for the stream ``node`` on the PipeWire connection ``fd``."""
    num, den = (int(round(fps)), 1) if fps >= 1 else (1, int(round(1 / fps)))
    keepalive = max(100, int(1000 / fps))
    return [
        "-v",
        "pipewiresrc", f"fd={fd}", f"path={node}", "do-timestamp=true", f"keepalive-time={keepalive}",
        "!", f"video/x-raw,max-framerate={num}/{den}",
        "!", "videorate", f"max-rate={max(1, num // den)}", "!", f"video/x-raw,framerate={num}/{den}",
        "!", "videoconvert", "!", "video/x-raw,format=BGRx",
        "!", "fdsink", f"fd={out_fd}", "sync=false",
    ]  # fmt: skip


def _die_with_parent() -> None:
    """In the gst-launch child before exec: SIGTERM when the capture process dies, even by SIGKILL
    (PR_SET_PDEATHSIG), so no stream reader outlives the recorder."""
    import ctypes
    import signal

    ctypes.CDLL(None).prctl(1, signal.SIGTERM, 0, 0, 0)


class PipeWireFrames:
    """The latest frame of one PipeWire stream. ``latest()`` raises CaptureUnavailable with
    GStreamer's own words once the stream has ended (the session was closed, the compositor or
    PipeWire went away)."""

    def __init__(self, gst: str, fd: int, node: int, fps: float, environ: Mapping[str, str]) -> None:
        read_end, write_end = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [gst, *pipeline(fd, node, write_end, fps)],
                pass_fds=(fd, write_end),
                env=dict(environ),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            os.close(read_end)
            raise CaptureUnavailable(f"Cannot start {gst}: {exc.strerror or exc}.") from exc
        finally:
            os.close(write_end)
        self._frames = read_end
        self._lock = threading.Condition()
        self._latest: Shot | None = None
        self._why = ""  # GStreamer's last error line
        self._ended = False
        self.count = 0  # frames read
        self._thread = threading.Thread(target=self._read, name=f"pipewire-{node}", daemon=True)
        self._thread.start()

    def latest(self, timeout: float = FIRST_FRAME_TIMEOUT_S) -> Shot:
        """The newest frame; waits up to ``timeout`` s for the first one."""
        with self._lock:
            self._lock.wait_for(lambda: self._latest is not None or self._ended, timeout)
            if self._ended:
                raise CaptureUnavailable(f"The screen cast's PipeWire stream ended ({self._why or 'no reason given'}).")
            if self._latest is None:
                raise CaptureUnavailable(f"The screen cast sent no frame in {timeout:g} s.")
            return self._latest

    def _read(self) -> None:
        size: tuple[int, int] | None = None
        text = b""
        frame, filled = bytearray(), 0
        out = self._proc.stdout
        assert out is not None
        try:
            while True:
                readable, _, _ = select.select([out.fileno(), self._frames], [], [])
                if out.fileno() in readable and (filled == 0 or self._frames not in readable):
                    chunk = os.read(out.fileno(), 65536)
                    if not chunk:
                        break
                    text += chunk
                    *lines, text = text.split(b"\n")
                    for line in lines:
                        size = self._notice(line, size)
                    continue
                if size is None:  # frame bytes before any caps: read the caps first
                    time.sleep(0.01)
                    continue
                if not frame:
                    frame, filled = bytearray(size[0] * size[1] * 4), 0
                n = os.readv(self._frames, [memoryview(frame)[filled:]])
                if n == 0:
                    break
                filled += n
                if filled == len(frame):
                    with self._lock:
                        self._latest = Shot(frame, size[0], size[1])
                        self.count += 1
                        self._lock.notify_all()
                    frame = bytearray()
        except OSError as exc:
            self._why = self._why or str(exc)
        finally:
            with self._lock:
                self._ended = True
                self._lock.notify_all()

    def _notice(self, line: bytes, size: tuple[int, int] | None) -> tuple[int, int] | None:
        caps = _SINK_CAPS.search(line)
        if caps:
            fields = dict(_FIELD.findall(caps.group(1)))
            return int(fields[b"width"]), int(fields[b"height"])
        if line.startswith(b"ERROR"):
            self._why = line.decode(errors="replace").strip()
            log.warning("screen cast: %s", self._why)
        return size

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._thread.join(timeout=5)
        os.close(self._frames)
        if self._proc.stdout:
            self._proc.stdout.close()
