"""Voiced audio kept beside the database as Opus (16 kbit/s mono: ~7 MB per hour of speech),
so a replay can play what was said. Silence never gets here: capture drops it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lifelog.paths import atomic_private_file, make_private_dir
from lifelog.store.sealed import Sealer

SUFFIX = ".ogg"
RATE = 16000
BIT_RATE = 16000


class AudioFiles:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.sealer = Sealer(root)  # sealed with AES-GCM when the timeline is encrypted

    def save(self, name: str, day: str, samples: np.ndarray) -> str:
        """Encode float32 mono 16 kHz ``samples`` atomically; returns the stored reference."""
        import av

        folder = self.root / day
        make_private_dir(folder)
        ref = f"{day}/{Path(name).stem}{SUFFIX}"
        final = self.root / ref
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
        with (
            atomic_private_file(final, sync=False) as raw,
            self.sealer.writer(raw) as fh,
            av.open(fh, "w", format="ogg") as out,
        ):
            stream = out.add_stream("libopus", rate=RATE, layout="mono")
            stream.bit_rate = BIT_RATE
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate = RATE
            for packet in (*stream.encode(frame), *stream.encode(None)):
                out.mux(packet)
        return ref

    def total_bytes(self) -> int:
        if not self.root.exists():
            return 0
        return sum(p.stat().st_size for p in self.root.rglob(f"*{SUFFIX}"))
