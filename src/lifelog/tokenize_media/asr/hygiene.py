"""Transcript hygiene: remove what Whisper says when nobody spoke, and what it says twice.

Whisper was trained on subtitles, so silence and noise come out as "Thank you.", "you", runs
of dots, or, from the multilingual models, a subtitle credit in some language
("字幕由Amara.org社区提供", "Sous-titres réalisés par la communauté d'Amara.org"), a channel's
plea ("請不吝點贊 訂閱 轉發 打賞支持明鏡與點點欄目", "ご視聴ありがとうございました"), or words in a
language it was unsure it heard. A window it cannot read can loop on one phrase. Overlapping
audio chunks transcribe the shared seconds twice. These pure functions clean a segment list;
``clean`` applies the per-chunk rules in order, ``dedupe_overlap`` joins consecutive chunks.
Words are Unicode words, so the rules hold in every language; text in scripts written without
spaces (Chinese, Japanese) is one word per run of characters.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from functools import lru_cache

from lifelog.tokenize_media.asr.base import Segment

# Whisper's own skip rule (openai/whisper transcribe.py defaults).
NO_SPEECH = 0.6
LOW_LOGPROB = -1.0
# Below this, language detection was a guess. Measured with base: silence and noise read as
# cy or nn at 0.34-0.62 with no_speech_prob 0.59-0.94; speech (espeak English, even a lone
# "Yes.", real Mandarin) at 0.70-1.0 with no_speech_prob at most 0.53.
UNSURE_LANGUAGE = 0.7
# gzip ratio above which a window is a repetition loop (Whisper's fallback threshold).
MAX_COMPRESSION = 2.4

# Stock phrases Whisper says over silence; kept only when the model was sure it heard speech.
# fmt: off
HALLUCINATIONS = frozenset({
    "you", "thank you", "thank you very much", "thanks", "thanks for watching",
    "thank you for watching", "thanks for watching and see you next time", "please subscribe",
    "subscribe", "like and subscribe", "bye", "bye bye", "okay", "so", "oh", "uh", "um", "hmm",
    "the end", "music", "applause", "silence", "subtitles by the amara org community",
    # Chinese, both scripts
    "谢谢", "謝謝", "谢谢观看", "謝謝觀看", "感谢观看", "感謝觀看", "谢谢大家", "謝謝大家", "谢谢收看", "謝謝收看",
    "请订阅", "請訂閱", "订阅我的频道", "訂閱我的頻道", "欢迎订阅", "歡迎訂閱", "记得订阅", "記得訂閱",
    "我们下期再见", "我們下期再見", "下期再见", "下期再見", "本期视频就到这里", "本期視頻就到這裡", "嗯", "啊",
    # Japanese, Korean
    "ご視聴ありがとうございました", "ご清聴ありがとうございました", "ありがとうございました",
    "チャンネル登録お願いします", "チャンネル登録よろしくお願いします", "おやすみなさい", "お疲れ様でした",
    "시청해주셔서 감사합니다", "시청해 주셔서 감사합니다", "감사합니다", "구독과 좋아요 부탁드립니다",
    # European languages
    "merci", "merci d'avoir regardé", "merci d'avoir regardé cette vidéo", "abonnez vous",
    "danke", "vielen dank", "vielen dank fürs zuschauen", "danke fürs zuschauen", "bis zum nächsten mal",
    "gracias", "gracias por ver", "gracias por ver el video", "suscríbete", "obrigado", "obrigada",
    "obrigado por assistir", "grazie", "grazie per la visione", "grazie a tutti", "bedankt voor het kijken",
    "спасибо", "спасибо за просмотр", "продолжение следует", "подписывайтесь на канал",
    "dziękuję", "dzięki za obejrzenie", "izlediğiniz için teşekkürler", "شكرا للمشاهدة",
})
# Subtitle credits and channel plugs: nobody says these, so they go whatever the scores.
CREDITS = re.compile("|".join([
    r"amara\.org", r"明[镜鏡].{0,12}(?:支持|订阅|訂閱|栏目|欄目)", r"[点點][点點][栏欄]目",
    r"字幕(?:由|提供|制作|製作|志愿者|志願者|翻译|翻譯|校对|校對|组|組)", r"(?:字幕|翻译|翻譯|校对|校對|时间轴|時間軸)\s*[:：]",
    r"优优独播剧场|優優獨播劇場|yoyo television", r"untertitel(?:ung)?\s+(?:der|des|im auftrag|von)\b",
    r"sous-titr(?:es|age)\s+(?:réalisés|fait|par|st)", r"subt[ií]tulos?\s+(?:realizados|por|hechos|creados)",
    r"sottotitoli\s+(?:creati|a cura)", r"legendas?\s+(?:pela|por|feitas)", r"ondertiteld?(?:ing)?\s+(?:door|van)",
    r"субтитр|редактор субтитров", r"napisy\s+(?:stworzone|wykonane|przez)", r"자막\s*(?:제공|제작|by)",
    r"(?:mbc|kbs|sbs|ytn)\s*뉴스\s*\S+입니다", r"\b(?:subtitles|captions|transcription)\s+by\b",
]), re.IGNORECASE)
# Pleas of the channels Whisper's subtitles came from: kept only when confidently spoken
# (a video playing on the system audio may really say them).
PLEAS = re.compile("|".join([
    r"(?:点赞|點贊|点讚|點讚|订阅|訂閱|转发|轉發|打赏|打賞).{0,6}(?:点赞|點贊|点讚|點讚|订阅|訂閱|转发|轉發|打赏|打賞)",
    r"(?:订阅|訂閱)(?:我的|我們的|我们的)?(?:频道|頻道)", r"チャンネル登録", r"구독", r"like and subscribe",
    r"subscribe to (?:my|our|the) channel", r"abonnez-vous", r"abonniert", r"suscr[ií]bete", r"iscriviti",
    r"inscreva-se", r"подписывайтесь",
]), re.IGNORECASE)
# fmt: on
_PUNCTUATION_RUN = re.compile(r"([^\w\s])\1{3,}")
# A phrase of 2-16 characters starting in a script without spaces, said 4+ times back to back.
_CJK_LOOP = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af][^\s]{1,15}?)\1{3,}")


def words(text: str) -> list[str]:
    """Lower-case Unicode words without punctuation: the form transcripts are compared in."""
    return re.findall(r"[^\W_]+(?:['’][^\W_]+)*", text.lower().replace("%", " percent"))


def said(text: str) -> str:
    """The words of ``text`` run together: one key for "Thank you." and "請不吝 點贊"."""
    return "".join(words(text)).replace("’", "'")


_STOCK = frozenset(said(p) for p in HALLUCINATIONS)


def is_no_speech(seg: Segment) -> bool:
    """Whisper's rule: the model thought the window silent *and* was unsure of its words; or
    it thought it silent and could not tell which language it heard."""
    if seg.no_speech_prob <= NO_SPEECH:
        return False
    return seg.avg_logprob < LOW_LOGPROB or seg.language_probability < UNSURE_LANGUAGE


def is_confident_speech(seg: Segment) -> bool:
    """High bar a stock phrase must clear to be kept: it was probably really said."""
    return seg.no_speech_prob < 0.3 and seg.avg_logprob > -0.7


def is_hallucination(seg: Segment) -> bool:
    """No words at all, a subtitle credit, or a stock phrase or channel plea the model was not
    sure was speech."""
    key = said(seg.text)
    if not key or CREDITS.search(seg.text):
        return True
    return (key in _STOCK or PLEAS.search(seg.text) is not None) and not is_confident_speech(seg)


def tidy(text: str) -> str:
    """Runs of one punctuation mark cut to three ("。。。。。。" -> "。。。"), and a CJK phrase said
    four or more times back to back kept once (the loop of a language without spaces)."""
    return _CJK_LOOP.sub(r"\1", _PUNCTUATION_RUN.sub(r"\1\1\1", text))


def compression_ratio(text: str) -> float:
    """Whisper's repetition measure: text bytes over zlib-compressed bytes."""
    raw = text.encode("utf-8")
    return len(raw) / len(zlib.compress(raw)) if raw else 0.0


def is_loop(seg: Segment) -> bool:
    """A repetition loop that collapsing exact repeats could not fix.

    Whisper scores a whole 30 s window, so a high ``compression_ratio`` only says some
    segment in it looped; the segment's own text decides which one.
    """
    return seg.compression_ratio > MAX_COMPRESSION and compression_ratio(seg.text) > MAX_COMPRESSION


def collapse_repeats(text: str, max_phrase: int = 8) -> str:
    """Keep one copy of a phrase repeated back to back: 3+ times for short phrases (speech
    does say "no, no"), twice for phrases of 4+ words (people rarely say those twice). The
    last copy is kept, since its punctuation belongs with the words that follow."""
    tokens = text.split()
    keys = [" ".join(words(t)) for t in tokens]
    i = 0
    while i < len(tokens):
        for n in range(1, min(max_phrase, (len(tokens) - i) // 2) + 1):
            reps = _repetitions(keys, i, n)
            if reps >= 3 or (reps >= 2 and n >= 4):
                del tokens[i : i + n * (reps - 1)], keys[i : i + n * (reps - 1)]
                break
        else:
            i += 1
    return " ".join(tokens)


def _repetitions(keys: list[str], i: int, n: int) -> int:
    """How many times the ``n``-token phrase at ``i`` occurs back to back from ``i``."""
    phrase = keys[i : i + n]
    if not any(phrase):
        return 1
    reps = 1
    while keys[i + n * reps : i + n * (reps + 1)] == phrase:
        reps += 1
    return reps


def drop_repeated_segments(segments: list[Segment]) -> list[Segment]:
    """Drop a segment that says exactly what the one before it said (a loop across windows)."""
    out: list[Segment] = []
    for seg in segments:
        if out and words(seg.text) == words(out[-1].text):
            out[-1] = replace(out[-1], end=max(out[-1].end, seg.end))
            continue
        out.append(seg)
    return out


def clean(segments: list[Segment]) -> list[Segment]:
    """One chunk's segments without no-speech windows, hallucinations, loops and repeats.

    Exact repeats are collapsed before the loop test, so a segment that merely stuttered
    keeps its words; only a loop collapsing cannot explain is dropped.
    """
    kept = [replace(s, text=collapse_repeats(tidy(s.text))) for s in segments if not is_no_speech(s)]
    kept = [s for s in kept if not (is_loop(s) or is_hallucination(s))]
    return drop_repeated_segments(kept)


def shift_segments(segments: list[Segment], offset: float) -> list[Segment]:
    """Segments moved ``offset`` seconds later: chunk-relative times to a longer recording's."""
    return [replace(s, start=s.start + offset, end=s.end + offset) for s in segments]


def absolute_span(seg: Segment, chunk_start: datetime) -> tuple[datetime, datetime]:
    """Wall-clock start and end of ``seg`` in a chunk that began at ``chunk_start``."""
    return chunk_start + timedelta(seconds=seg.start), chunk_start + timedelta(seconds=seg.end)


def dedupe_overlap(
    prev: list[Segment], new: list[Segment], overlap_seconds: float, slack: float = 1.0
) -> list[Segment]:
    """``new`` without the words it repeats from ``prev`` because the two chunks shared audio.

    Both lists use one clock (see ``shift_segments``), and the new chunk began
    ``overlap_seconds`` before the previous one ended. Only the last ``overlap_seconds`` of
    ``prev`` and the first ``overlap_seconds`` of ``new`` (plus ``slack``) are compared, so
    a phrase legitimately said twice minutes apart survives. The two decodings of the shared
    audio rarely agree word for word (a word cut at a chunk's edge, int8 kernels that differ
    by CPU: "the find and steam" for "the finance team"), so the end of ``prev``'s tail is
    aligned fuzzily with the start of ``new``'s head (:func:`_repeated_units`) and what
    ``new`` says of the shared audio is removed: one side kept, no fragment said twice.
    """
    if not prev or not new or overlap_seconds <= 0:
        return list(new)
    prev_end = max(s.end for s in prev)
    recent = [s for s in prev if s.end > prev_end - overlap_seconds - slack]
    tail = [u.key for i, s in enumerate(recent) for u in _units(i, s.text)][-ALIGN_UNITS:]
    head_until = min(min(s.start for s in new) + overlap_seconds, prev_end) + slack
    head = [u for i, s in enumerate(new) if s.start < head_until for u in _units(i, s.text)][:ALIGN_UNITS]
    return _remove_leading_units(prev_end, new, head[: _repeated_units(tail, head)])


# Overlap alignment: units are words, or single characters in scripts written without spaces.
ALIGN_UNITS = 60  # units compared at each side: a few seconds of speech, with room to spare
MIN_EVIDENCE = 3  # alignment score that shows a repeat: two words heard alike, or more
HEAD_SKIP = 2  # unmatched units at the very start of the new chunk (a word cut in two)
_CJK_CHAR = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_CHAR}]")
_UNIT = re.compile(rf"[{_CJK_CHAR}]|(?:(?![{_CJK_CHAR}])[^\W_])+(?:['’](?:(?![{_CJK_CHAR}])[^\W_])+)*")


@dataclass(frozen=True)
class _Unit:
    seg: int  # index of its segment
    end: int  # offset just after it in the segment's text
    key: str  # lower case
    cjk: bool  # one character of a script without spaces


def _units(seg: int, text: str) -> list[_Unit]:
    return [_Unit(seg, m.end(), m.group().lower(), _CJK.fullmatch(m.group()) is not None) for m in _UNIT.finditer(text)]


def _repeated_units(tail: list[str], head: list[_Unit]) -> int:
    """How many leading ``head`` units say again what ends ``tail``.

    An alignment of a suffix of ``tail`` with a prefix of ``head`` (edit distance, scored:
    a word heard alike +2, heard nearly alike +1 (:func:`_likeness`), a word only one side
    heard -1), which must run to ``tail``'s end and from ``head``'s start (at most HEAD_SKIP
    units in). The best prefix
    counts when it scores MIN_EVIDENCE; a single word ending ``tail`` and starting ``head``
    counts too. A last tail word cut short ("numb" for "numbers") leaves ``head`` its whole word.
    """
    if not tail or not head:
        return 0
    keys = [u.key for u in head]
    # Before the first tail word only a cut first word or two of head may go unmatched: the
    # tail reaches further back than head, so a later match is a phrase said again.
    above = [-j if j <= HEAD_SKIP else -len(keys) * 3 for j in range(len(keys) + 1)]
    for i, word in enumerate(tail):
        row = [0]  # tail words before the aligned suffix cost nothing
        for j, key in enumerate(keys, 1):
            row.append(max(above[j - 1] + _likeness(word, key), above[j] - 1, row[j - 1] - 1))
        if i < len(tail) - 1:
            above = row
    score, count = max((row[j], -j) for j in range(1, len(keys) + 1))
    count = -count
    if score < MIN_EVIDENCE:
        return 1 if keys[0] == tail[-1] and not head[0].cjk else 0
    last = keys[count - 1]
    if row[count] == above[count - 1] + _likeness(tail[-1], last) and last != tail[-1] and last.startswith(tail[-1]):
        count -= 1  # prev's last word was cut at its chunk's end: new's whole word stays
    return count


@lru_cache(maxsize=4096)
def _likeness(a: str, b: str) -> int:
    """+2 for one word, +1 for a word nearly alike (misheard: "sides"/"slides", "that"/"the",
    a cut "numb"/"numbers"), -1 otherwise. Single characters are alike only when equal."""
    if a == b:
        return 2
    if min(len(a), len(b)) > 1 and SequenceMatcher(None, a, b, autojunk=False).ratio() >= 0.5:
        return 1
    return -1


def _remove_leading_units(prev_end: float, new: list[Segment], dropped: list[_Unit]) -> list[Segment]:
    """``new`` without the ``dropped`` units (a prefix of its head) and the punctuation that
    follows them; emptied segments disappear and a trimmed one starts no earlier than
    ``prev`` ended, so the timeline does not overlap."""
    cut = {u.seg: u for u in dropped}  # the last dropped unit of each segment
    out = []
    for i, seg in enumerate(new):
        if i not in cut:
            out.append(seg)
            continue
        rest = _after(seg.text, cut[i])
        if words(rest):
            out.append(replace(seg, text=rest, start=min(max(seg.start, prev_end), seg.end)))
    return out


def _after(text: str, unit: _Unit) -> str:
    """What ``text`` says after ``unit``: a word's trailing punctuation goes with it (up to the
    next space); after a character of a script without spaces, its punctuation mark (，。)."""
    if unit.cjk:
        return re.sub(r"^[\W_]+", "", text[unit.end :]).strip()
    space = re.search(r"\s", text[unit.end :])
    return "" if space is None else text[unit.end + space.start() :].strip()
