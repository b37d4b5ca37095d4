"""Who spoke (``tokenize_media/asr/speakers.py``): speakers found, share of speech time given to
the right speaker, and CPU cost, on real voices taking turns.

    .venv/bin/python bench/diarization.py [--minutes 1,3] [--turn 6]

Material: one real English voice (../shared/testdata/speech-en/test-2.mp3) and one real Mandarin
voice (../shared/testdata/speech-zh/foxconn.wav) taking turns of ``--turn`` seconds with half a
second between them, each voice's clip read on from where its last turn stopped (looped), for
each length in ``--minutes``; and the English voice alone for the shortest length (the answer
must be one speaker). Speech regions: the energy gate's, as for audio without Whisper's.

Right: after each found speaker is paired with the true one it overlaps most (one to one,
the best pairing), the seconds of each found turn that lie inside a true turn of its paired
speaker, over all true speech seconds. Beside lifelog's two steps (average linkage cut at
``CUT``, then clusters whose centroids are ``SAME_VOICE`` alike joined), on the same window
embeddings: the linkage alone cut at 0.60 (the first design), and everything as one speaker
(the floor). CPU: this process's seconds for windows, embeddings and clustering, per minute of
audio (the speaker model runs on one thread); peak RSS is the process's high-water mark.
"""

from __future__ import annotations

import argparse
import itertools

import common
import numpy as np

ROOT = common.ROOT

from lifelog.tokenize_media.asr.audio_io import decode_audio
from lifelog.tokenize_media.asr.base import SAMPLE_RATE
from lifelog.tokenize_media.asr.speaker_turns import CUT, SAME_VOICE, turns
from lifelog.tokenize_media.asr.speakers import diarize, get_embedder

TESTDATA = ROOT.parent / "shared" / "testdata"
VOICES = {"en": TESTDATA / "speech-en" / "test-2.mp3", "zh": TESTDATA / "speech-zh" / "foxconn.wav"}
PAUSE = 0.5


def conversation(clips: dict[str, np.ndarray], order: list[str], minutes: float, turn: float):
    """Samples of the voices in ``order`` taking turns of ``turn`` s for ``minutes``; the truth as
    (start, end, voice) in seconds."""
    read = dict.fromkeys(clips, 0)
    parts, truth, t = [], [], 0.0
    for who in itertools.cycle(order):
        if t >= minutes * 60:
            break
        clip, n = clips[who], int(turn * SAMPLE_RATE)
        piece = np.take(clip, np.arange(read[who], read[who] + n), mode="wrap")
        read[who] = (read[who] + n) % clip.size
        parts += [piece, np.zeros(int(PAUSE * SAMPLE_RATE), np.float32)]
        truth.append((t, t + turn, who))
        t += turn + PAUSE
    return np.concatenate(parts), truth


def right_share(found, truth) -> float:
    """Share of the true speech seconds given to the right speaker, under the best one-to-one
    pairing of found speakers with true ones."""
    voices = sorted({who for _, _, who in truth})
    speakers = sorted({f.speaker for f in found})
    overlap = np.zeros((len(speakers), len(voices)))
    for f in found:
        for s, e, who in truth:
            overlap[speakers.index(f.speaker), voices.index(who)] += max(0.0, min(f.end, e) - max(f.start, s))
    best = 0.0
    for pairing in itertools.permutations(range(len(voices)), min(len(speakers), len(voices))):
        best = max(best, sum(overlap[i, j] for i, j in enumerate(pairing)))
    return best / sum(e - s for s, e, _ in truth)


def linkage_alone(embeddings: np.ndarray, cut: float) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster, linkage

    if len(embeddings) < 2:
        return np.zeros(len(embeddings), int)
    return fcluster(linkage(embeddings, method="average", metric="cosine"), t=cut, criterion="distance") - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", default="1,3", help="lengths of the conversation, comma-separated")
    parser.add_argument("--turn", type=float, default=6.0, help="seconds each voice speaks before the other")
    args = common.parse(parser, quick={"minutes": "0.5"})
    missing = [str(p) for p in VOICES.values() if not p.is_file()]
    if missing:
        raise SystemExit(f"the real voices are not here: {', '.join(missing)} (see the docstring)")
    clips = {who: decode_audio(path) for who, path in VOICES.items()}
    get_embedder()  # the model's load is not the cost of a recording
    lengths = [float(m) for m in args.minutes.split(",")]
    cases = [(f"EN+ZH turns, {m:g} min", ["en", "zh"], m) for m in lengths]
    cases.append((f"EN alone, {min(lengths):g} min", ["en"], min(lengths)))
    rows = []
    for name, order, minutes in cases:
        samples, truth = conversation(clips, order, minutes, args.turn)
        with common.timed() as cost:
            done = diarize(samples)
        audio_min = samples.size / SAMPLE_RATE / 60
        old = turns(done.spans, linkage_alone(done.embeddings, 0.60))
        floor = turns(done.spans, np.zeros(len(done.spans), int))
        rows.append(
            [
                name,
                len(set(order)),
                done.speakers,
                f"{100 * right_share(done.turns, truth):.1f}",
                len({t.speaker for t in old}),
                f"{100 * right_share(old, truth):.1f}",
                f"{100 * right_share(floor, truth):.1f}",
                f"{cost['cpu'] / audio_min:.2f}",
                f"{cost['wall'] / audio_min:.2f}",
            ]
        )
        print(f"{name}: {done.describe()}", flush=True)
    print(f"\ncut {CUT}, same voice {SAME_VOICE}; peak RSS {common.memory_mb()['peak']:.0f} MiB\n")
    header = ["case", "voices", "found", "right %", "linkage 0.60: found", "right %", "one speaker: right %"]
    print(common.table([*header, "CPU s / audio min", "wall s / audio min"], rows))


if __name__ == "__main__":
    main()
