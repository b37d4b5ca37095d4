"""Voices in the timeline (``store/voices.py``): matched across chunks, the microphone's main
voice is "me", names, labels in windows and search, and prune after forget. Real DuckDB file;
the voices are unit vectors standing for CAM++ centroids."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from lifelog.errors import UsageError
from lifelog.models import HeardVoice, Transcript
from lifelog.store import voices

AT = datetime(2026, 11, 20, 9, 0)


def _voice(seed: int, seconds: float = 10.0, noise: float = 0.0) -> HeardVoice:
    rng = np.random.default_rng(seed)
    base = np.random.default_rng(seed % 100).standard_normal(192)
    v = base + noise * rng.standard_normal(192) * np.linalg.norm(base) / np.sqrt(192)
    return HeardVoice((v / np.linalg.norm(v)).tolist(), seconds)


def _said(text: str, at: datetime, heard_as: int, source: str = "system") -> Transcript:
    return Transcript(at, at + timedelta(seconds=3), source, "test", text, tokens=3, heard_as=heard_as)


def test_the_same_voice_keeps_its_label_across_chunks_and_a_new_one_gets_the_next(store):
    with store.write() as w:
        first = w.add_voices([_voice(1), _voice(2)], "system", AT)
        w.add_transcripts([_said("budget review Thursday", AT, 0), _said("sounds good", AT, 1)], first)
    with store.write() as w:  # the second voice again (a little different), and a third
        second = w.add_voices([_voice(102, noise=0.3), _voice(3)], "system", AT + timedelta(minutes=5))
        w.add_transcripts([_said("and the invoice", AT + timedelta(minutes=5), 0)], second)
    assert first == [1, 2] and second == [2, 3]
    with store.read() as r:
        listed = r.speakers()
        lines = r.heard_columns(None, None)
    assert [v["speaker"] for v in listed] == ["Speaker 2", "Speaker 1"]  # most heard first (two lines)
    assert [row.source for row in lines] == ["system · Speaker 1", "system · Speaker 2", "system · Speaker 2"]


def test_the_microphones_main_voice_is_me_unless_it_is_another_known_voice(store):
    with store.write() as w:
        ids = w.add_voices([_voice(5, seconds=2), _voice(6, seconds=30)], "mic", AT)
        w.add_transcripts([_said("hi", AT, 0, "mic"), _said("so I think", AT, 1, "mic")], ids)
    with store.write() as w:  # later, the user's voice on the mic again: me, matched
        again = w.add_voices([_voice(106, noise=0.3)], "mic", AT + timedelta(hours=1))
        w.add_transcripts([_said("again", AT + timedelta(hours=1), 0, "mic")], again)
    with store.write() as w:  # a known voice (not me) that speaks most into the mic stays itself
        guest = w.add_voices([_voice(105, seconds=40, noise=0.2)], "mic", AT + timedelta(hours=2))
    with store.read() as r:
        by_id = {v["id"]: v["speaker"] for v in r.speakers()}
    assert by_id[ids[1]] == "me" and again == [ids[1]] and guest == [ids[0]]
    assert by_id[ids[0]] == "Speaker 1"


def test_names_labels_errors_and_prune(store):
    with store.write() as w:
        ids = w.add_voices([_voice(7), _voice(8)], "system", AT)
        w.add_transcripts([_said("quarterly numbers", AT, 0), _said("the quarterly plan", AT, 1)], ids)
        w.name_voice("Speaker 2", "Dana Whitfield")
        with pytest.raises(UsageError, match="taken"):
            w.name_voice("1", "dana whitfield")
        with pytest.raises(UsageError, match="No speaker"):
            w.name_voice("Speaker 9", "Sam")
        for bad in ("", "12", "speaker 3", "x" * 81):
            with pytest.raises(UsageError, match="Bad speaker name"):
                w.name_voice("1", bad)
        w.name_voice("dana whitfield", "Dana")  # renamed by its name
    with store.read() as r:
        assert {h.transcript.speaker for h in r.search("quarterly")} == {"Speaker 1", "Dana"}
        assert [h.transcript.text for h in r.search("quarterly", speaker="dan")] == ["the quarterly plan"]
        assert [h.transcript.text for h in r.search("quarterly", speaker="Speaker 1")] == ["quarterly numbers"]
        assert r.search("quarterly", speaker="nobody") == []
    with store.write() as w:  # imported rows name voices by label: a name not known becomes a voice
        w.add_transcripts([Transcript(AT, AT, "file", "x", "from elsewhere", speaker="Sam")])
        w._con.execute("DELETE FROM transcripts WHERE speaker = ?", [ids[0]])
        assert voices.prune(w._con) == 1
    with store.read() as r:
        assert sorted(v["speaker"] for v in r.speakers()) == ["Dana", "Sam"]
