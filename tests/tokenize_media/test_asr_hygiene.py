"""Transcript hygiene on hand-made segment lists: what Whisper says in silence, loops, overlaps."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from lifelog.tokenize_media.asr.base import Segment
from lifelog.tokenize_media.asr.hygiene import (
    absolute_span,
    clean,
    collapse_repeats,
    dedupe_overlap,
    drop_repeated_segments,
    shift_segments,
    words,
)

SURE = {"no_speech_prob": 0.05, "avg_logprob": -0.3, "compression_ratio": 1.2}
UNSURE = {"no_speech_prob": 0.93, "avg_logprob": -0.82, "compression_ratio": 0.3}


def seg(start, end, text, **scores):
    return Segment(start, end, text, **(scores or SURE))


def texts(segments):
    return [s.text for s in segments]


def test_whispers_no_speech_rule_drops_silent_windows():
    silent = seg(0, 5, "I'm going to go to the store.", no_speech_prob=0.8, avg_logprob=-1.4, compression_ratio=1.0)
    speech = seg(5, 8, "The budget review starts now.")
    assert texts(clean([silent, speech])) == ["The budget review starts now."]


def test_silence_hallucinations_go_unless_confidently_spoken():
    said = [seg(0, 2, " Thank you."), seg(2, 4, "you", **UNSURE), seg(4, 5, "Thanks for watching!", **UNSURE)]
    assert texts(clean(said)) == ["Thank you."]


def test_punctuation_only_segments_go():
    assert clean([seg(0, 3, " ."), seg(3, 6, ". . ."), seg(6, 8, "...", **UNSURE)]) == []


LOOPING_WINDOW = {"no_speech_prob": 0.1, "avg_logprob": -0.4, "compression_ratio": 9.5}


def test_an_exact_loop_collapses_to_what_was_said():
    loop = seg(0, 30, "We need 25 slides. " + "The budget, " * 40, **LOOPING_WINDOW)
    assert texts(clean([loop])) == ["We need 25 slides. The budget,"]


def test_a_loop_that_cannot_be_collapsed_is_dropped():
    cycle = " ".join(f"Item {i % 3} is late and the team knows it." for i in range(12))
    sane = seg(30, 33, "Next item.", **LOOPING_WINDOW)  # same 30 s window, its own text is fine
    assert clean([seg(0, 30, cycle, **LOOPING_WINDOW), sane]) == [sane]


def test_repeated_phrases_collapse_within_a_segment():
    assert collapse_repeats("We need 25 slides. We need 25 slides. We need 25 slides.") == "We need 25 slides."
    assert collapse_repeats("the budget, the budget, the budget review") == "the budget review"
    assert collapse_repeats("okay okay okay okay fine") == "okay fine"


def test_natural_repeats_survive():
    assert collapse_repeats("no, no, we are not done") == "no, no, we are not done"
    assert collapse_repeats("it was very very good") == "it was very very good"
    assert collapse_repeats("that that is fine") == "that that is fine"


def test_repeated_segments_merge_into_the_first():
    loop = [seg(0, 2, "Let's move on."), seg(2, 4, "Let's move on."), seg(4, 6, "let's move on"), seg(6, 9, "Done.")]
    assert drop_repeated_segments(loop) == [seg(0, 6, "Let's move on."), seg(6, 9, "Done.")]


def test_overlap_drops_the_repeated_words_only():
    prev = [seg(0, 4, "The budget review meeting starts on Tuesday."), seg(4, 8, "We need 25 slides about the")]
    new = [seg(6, 9, "slides about the quarterly numbers."), seg(9, 12, "Please send the report.")]
    out = dedupe_overlap(prev, new, overlap_seconds=3)
    assert texts(out) == ["quarterly numbers.", "Please send the report."]
    assert out[0].start >= 8  # the kept words come after what prev already covered


def test_overlap_tolerates_a_word_cut_at_the_boundary():
    prev = [seg(0, 8, "We need 25 slides about the quarterly numb")]
    new = [seg(6, 9, "Sides about the quarterly numbers."), seg(9, 12, "Please send the report.")]
    assert texts(dedupe_overlap(prev, new, overlap_seconds=3)) == ["numbers.", "Please send the report."]


def test_whole_duplicate_segments_disappear():
    prev = [seg(0, 5, "Please send the report."), seg(5, 8, "Before Friday.")]
    new = [seg(5, 8, "Before Friday."), seg(8, 10, "Thanks, Ana.")]
    assert texts(dedupe_overlap(prev, new, overlap_seconds=3)) == ["Thanks, Ana."]


def test_phrases_said_again_later_are_kept():
    prev = [seg(0, 5, "Please send the report.")]
    later = [seg(20, 24, "Please send the report.")]
    assert dedupe_overlap(prev, later, overlap_seconds=3) == later
    unrelated = [seg(4, 7, "The plan is new.")]
    assert dedupe_overlap(prev, unrelated, overlap_seconds=3) == unrelated


def test_overlap_decoded_differently_is_said_once():
    """The second chunk misheard its first words on another CPU (AVX-512 int8 kernels): the
    join must not repeat "slides about"."""
    prev = [seg(0, 5, "The budget review starts on Tuesday."), seg(5, 9, "We need 25 slides about that.")]
    new = [seg(6, 11, "When to find slides about the quarterly numbers, please."), seg(11, 13, "Thanks, Ana.")]
    out = dedupe_overlap(prev, new, overlap_seconds=3)
    assert texts(out) == ["quarterly numbers, please.", "Thanks, Ana."]
    assert out[0].start >= 9


def test_overlap_with_misheard_words_is_said_once():
    prev = [seg(0, 8, "Please ask the finance team for the numbers.")]
    new = [seg(5, 10, "the find and steam for the numbers. Then send them on.")]
    assert texts(dedupe_overlap(prev, new, overlap_seconds=3)) == ["Then send them on."]


def test_overlap_tolerates_a_word_cut_at_the_start_of_the_new_chunk():
    prev = [seg(0, 8, "We need 25 slides about the quarterly numbers.")]
    new = [seg(6, 10, "Ides about the quarterly numbers. Please send the report.")]
    assert texts(dedupe_overlap(prev, new, overlap_seconds=3)) == ["Please send the report."]


def test_overlap_in_a_script_without_spaces_is_said_once():
    prev = [zh(0, 8, "我们需要二十五张关于季度数字的幻灯片")]
    new = [zh(6, 12, "关于季度数子的幻灯片，请在周五前发给我。")]  # 字 misheard as 子
    assert texts(dedupe_overlap(prev, new, overlap_seconds=3)) == ["请在周五前发给我。"]
    unrelated = [zh(6, 12, "明天下午三点开会。")]
    assert dedupe_overlap(prev, unrelated, overlap_seconds=3) == unrelated


def test_a_phrase_said_again_right_after_the_overlap_survives():
    prev = [seg(0, 8, "Send the report to Ana.")]
    new = [seg(5, 8, "to Ana."), seg(8, 12, "Yes, send the report to Ana today.")]
    assert texts(dedupe_overlap(prev, new, overlap_seconds=3)) == ["Yes, send the report to Ana today."]


def test_chunk_offsets_become_absolute_times():
    shifted = shift_segments([seg(1.5, 3.0, "hello")], 60.0)
    assert (shifted[0].start, shifted[0].end) == (61.5, 63.0)
    start, end = absolute_span(seg(1.5, 3.0, "hi"), datetime(2026, 11, 24, 9, 0, 0))
    assert start == datetime(2026, 11, 24, 9, 0, 1, 500000)
    assert end == datetime(2026, 11, 24, 9, 0, 3)


# -- every language ------------------------------------------------------------------------


def zh(start, end, text, **scores):
    return Segment(start, end, text, **(scores or SURE), language="zh")


def test_speech_in_scripts_without_spaces_is_kept():
    said = [
        zh(0, 4, "富士康在印度工廠出現大規模感染"),
        Segment(4, 6, "ご予約は三時です。", **SURE, language="ja"),
        Segment(6, 8, "회의는 세 시에 시작합니다.", **SURE, language="ko"),
    ]
    assert clean(said) == said


def test_subtitle_credits_go_in_any_language_however_sure():
    credits = [
        "字幕由Amara.org社区提供",
        "小編字幕由Amara.org社區提供",
        "請不吝點贊 訂閱 轉發 打賞支持明鏡與點點欄目",
        "Sous-titres réalisés par la communauté d'Amara.org",
        "Untertitel der Amara.org-Community",
        "Subtítulos realizados por la comunidad de Amara.org",
        "Untertitel im Auftrag des ZDF, 2017",
        "Редактор субтитров А.Синецкая Корректор А.Егорова",
        "中文字幕：李宗盛",
    ]
    assert clean([zh(i, i + 1, text) for i, text in enumerate(credits)]) == []


def test_stock_phrases_and_pleas_go_unless_confidently_spoken():
    unsure = [
        zh(0, 2, "谢谢观看", **UNSURE),
        zh(2, 4, "請訂閱", **UNSURE),
        zh(4, 6, "ご視聴ありがとうございました", **UNSURE),
        zh(6, 8, "시청해주셔서 감사합니다", **UNSURE),
        zh(8, 10, "Merci d'avoir regardé !", **UNSURE),
        zh(10, 12, "别忘了点赞订阅转发", **UNSURE),
        zh(12, 14, "チャンネル登録よろしくお願いします", **UNSURE),
    ]
    assert clean(unsure) == []
    sure = zh(20, 22, "谢谢观看")  # a real sign-off, confidently heard, stays
    assert clean([sure]) == [sure]


def test_punctuation_alone_or_in_runs():
    assert clean([zh(0, 1, "。"), zh(1, 2, "？！"), zh(2, 3, "……"), zh(3, 4, "。。。。。。。。")]) == []
    assert texts(clean([zh(0, 3, "好的。。。。。。。。。。我们开始吧！！！！！！")])) == ["好的。。。我们开始吧！！！"]


def test_a_phrase_looping_without_spaces_is_kept_once():
    loop = zh(0, 30, "我们下周再讨论这个问题" + "我们下周再讨论" * 12, **LOOPING_WINDOW)
    assert texts(clean([loop])) == ["我们下周再讨论这个问题我们下周再讨论"]
    assert texts(clean([zh(0, 3, "对对对，好好好，哈哈哈哈")])) == ["对对对，好好好，哈哈哈哈"]  # speech says that


def test_words_in_a_language_the_model_could_not_name_go_when_it_thought_it_silent():
    """On noise, base reads "1,5 cm" in Norwegian at 0.62 with no_speech_prob 0.78 (measured):
    sure enough of its words to pass Whisper's own rule, unsure of everything else."""
    noise = Segment(
        0,
        5,
        "1,5 cm",
        no_speech_prob=0.78,
        avg_logprob=-0.58,
        compression_ratio=1.9,
        language="nn",
        language_probability=0.62,
    )
    quiet_yes = Segment(
        5,
        6,
        "Yes.",
        no_speech_prob=0.53,
        avg_logprob=-0.92,
        compression_ratio=0.3,
        language="en",
        language_probability=0.70,
    )
    assert clean([noise, quiet_yes]) == [quiet_yes]


_SAID = st.lists(
    st.sampled_from(
        [
            "the",
            "report",
            "slides",
            "about",
            "Ana",
            "25",
            "numbers,",
            "find",
            "季度",
            "数字",
            "幻灯片，",
            "please.",
            "—",
        ]
    ),
    max_size=12,
).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(prev_text=_SAID, new_texts=st.lists(_SAID, min_size=1, max_size=3), gap=st.floats(-8, 8))
def test_a_join_only_removes_the_start_of_the_new_chunk(prev_text, new_texts, gap):
    """Whatever the words: the join keeps an ending of new's words in order, never adds or
    reorders any, and removes nothing when the chunks do not overlap in time."""
    prev = [seg(0, 8, prev_text)]
    new = [seg(8 + gap + 2 * i, 10 + gap + 2 * i, text) for i, text in enumerate(new_texts)]
    out = dedupe_overlap(prev, new, overlap_seconds=3)
    kept = [w for s in out for w in words(s.text)]
    every = [w for s in new for w in words(s.text)]
    assert kept == every[len(every) - len(kept) :]
    assert all(s in new or s.start >= min(8, s.end) for s in out)  # trimmed: after prev, if it can
    if gap > 1:
        assert out == [s for s in new if words(s.text)] or out == new
