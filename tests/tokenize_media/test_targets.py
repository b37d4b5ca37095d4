"""Target models: every known name resolves to a tokenizer and a context; upper-bound tokenizers
are never under the real tokenizers' counts recorded on a mixed corpus (English and 17 other
languages, code, logs, numbers, emoji; bench/tokenizer_calibration.py measured them offline), nor
under any tokenizer lifelog ships; budgets parse; images cost the providers' published rates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lifelog.config import DEFAULT_BUDGET, Settings, parse_budget
from lifelog.errors import UsageError
from lifelog.tokenize_media.targets import (
    choose,
    image_tokens,
    known_names,
    normalise,
    resolve,
)
from lifelog.tokenize_media.tokenizers import get_tokenizer, tokenizer_ids

CORPUS = [
    json.loads(line) for line in (Path(__file__).parent / "data" / "tokenizer_corpus.jsonl").read_text().splitlines()
]
EXACT = ("o200k", "cl100k", "llama3", "qwen3")
APPROX = sorted(t for t in tokenizer_ids() if t.endswith("-approx"))
# which recorded real tokenizer each upper bound answers for
REAL = {
    "claude-approx": ["claude-v3"],
    "claude-4.7-approx": ["claude-v4.7"],
    "mistral-approx": ["mistral-tekken"],
    "mistral-sp-approx": ["mistral-sp-v3"],
    "deepseek-approx": ["deepseek-v3", "deepseek-v4"],
    "gemini-approx": [],
}


@pytest.mark.parametrize("name", known_names())
def test_every_known_model_resolves_to_a_tokenizer_and_a_usable_budget(name):
    target = resolve(name)
    assert target.name == name
    assert get_tokenizer(target.tokenizer).count("hello world") >= 2
    assert 0 < target.usable_budget() < target.context


@pytest.mark.parametrize(
    "name, family, tokenizer, context",
    [
        ("gpt-4o", "gpt-4o", "o200k", 128_000),
        ("openai/gpt-4o-2024-08-06", "gpt-4o", "o200k", 128_000),
        ("gpt-4o-mini", "gpt-4o", "o200k", 128_000),
        ("gpt-4.1-nano", "gpt-4.1", "o200k", 1_047_576),
        ("gpt-5-mini", "gpt-5", "o200k", 400_000),
        ("o3-mini", "o3", "o200k", 200_000),
        ("gpt-4-0613", "gpt-4", "cl100k", 8_192),
        ("gpt-3.5-turbo", "gpt-3.5-turbo", "cl100k", 16_385),
        ("claude-3-5-sonnet-20241022", "claude-3", "claude-approx", 200_000),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4", "claude-approx", 200_000),
        ("claude-opus-4-6", "claude-opus-4", "claude-approx", 200_000),
        ("claude-opus-4-7", "claude-opus-4-7", "claude-4.7-approx", 200_000),
        ("claude-sonnet-5", "claude-", "claude-4.7-approx", 200_000),  # newer than the table: the bigger factor
        ("gemini-2.5-pro", "gemini-", "gemini-approx", 1_048_576),
        ("models/gemini-1.5-pro-002", "gemini-1.5-pro", "gemini-approx", 2_097_152),
        ("llama3:8b", "llama3", "llama3", 8_192),
        ("meta-llama/Meta-Llama-3.1-8B-Instruct", "llama-3.1", "llama3", 131_072),
        ("llama3.3:70b", "llama3.3", "llama3", 131_072),
        ("qwen3", "qwen3", "qwen3", 32_768),
        ("Qwen/Qwen2.5-7B-Instruct", "qwen2.5", "qwen3", 32_768),
        ("qwen3-coder:30b", "qwen3-coder", "qwen3", 262_144),
        ("mistral-large-latest", "mistral-large", "mistral-approx", 131_072),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", "mixtral-8x7b", "mistral-sp-approx", 32_768),
        ("mistral:7b", "mistral", "mistral-sp-approx", 32_768),  # as Ollama names them
        ("gemma3:12b", "gemma3", "gemini-approx", 131_072),
        ("deepseek-chat", "deepseek-chat", "deepseek-approx", 131_072),
        ("deepseek-ai/DeepSeek-R1", "deepseek-r1", "deepseek-approx", 131_072),
        ("deepseek-r1-distill-qwen-7b", "deepseek-r1-distill-qwen", "qwen3", 131_072),
    ],
)
def test_model_names_as_providers_and_servers_spell_them(name, family, tokenizer, context):
    target = resolve(name)
    assert (target.name, target.tokenizer, target.context) == (family, tokenizer, context)


def test_budget_rule_leaves_room_for_the_answer_and_respects_input_limits():
    assert resolve("gpt-4o").usable_budget() == 128_000 - 12_800
    assert resolve("gpt-4").usable_budget() == 8_192 - 4_096  # at least 4k for the answer
    assert resolve("gpt-5").usable_budget() == 272_000  # its published input limit
    assert resolve("o200k").usable_budget() is None  # a bare tokenizer brings no context


def test_unknown_model_names_the_families_and_how_to_name_a_tokenizer():
    with pytest.raises(UsageError) as exc:
        resolve("gpt-99")
    msg = str(exc.value)
    assert "Unknown model 'gpt-99'" in msg and "claude-*" in msg and "gemini-*" in msg
    assert "--tokenizer" in msg and "o200k" in msg and "claude-approx" in msg and "--budget" in msg
    assert "\n" not in msg


def test_tokenizer_ids_work_as_names():
    assert normalise("OpenAI/GPT-4o:latest") == "gpt-4o"
    for tok in ("o200k", "cl100k", "claude-approx"):
        assert resolve(tok).tokenizer == tok


# -- upper bounds ---------------------------------------------------------------------------
@pytest.mark.parametrize("approx", APPROX)
def test_upper_bounds_are_never_under_the_recorded_real_counts(approx):
    tok = get_tokenizer(approx)
    assert not tok.exact
    for real in REAL[approx]:
        under = [
            (s["kind"], s["real"][real], tok.count(s["text"])) for s in CORPUS if tok.count(s["text"]) < s["real"][real]
        ]
        assert under == [], f"{approx} under {real}"
        # and not wildly over: the margin over the worst sample stays under 15%
        worst = max(s["real"][real] / tok.count(s["text"]) for s in CORPUS)
        assert worst > 1 / 1.15, f"{approx} has more margin than measured for {real}: {worst:.3f}"


@pytest.mark.parametrize("approx", APPROX)
def test_upper_bounds_are_never_under_any_bundled_tokenizer(approx):
    tok = get_tokenizer(approx)
    texts = [s["text"] for s in CORPUS] + ["\n\n".join(s["text"] for s in CORPUS), "", " ", "a"]
    for text in texts:
        assert all(tok.count(text) >= get_tokenizer(e).count(text) for e in EXACT), text[:60]
    assert tok.count_many(texts) == [tok.count(t) for t in texts]


def test_exact_vocabularies_match_the_models_own_files():
    qwen3, llama3 = get_tokenizer("qwen3"), get_tokenizer("llama3")
    assert all(qwen3.count(s["text"]) == s["real"]["qwen-2.5"] for s in CORPUS)
    # Meta's reference (tiktoken) and the Hugging Face file disagree on a few non-Latin runs
    assert all(
        abs(llama3.count(s["text"]) - s["real"]["llama-3.1-hf"]) <= 0.05 * s["real"]["llama-3.1-hf"] for s in CORPUS
    )


# -- budgets ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, tokens",
    [
        ("8000", 8000),
        ("200k", 200_000),
        ("200K", 200_000),
        ("1M", 1_000_000),
        ("1.5m", 1_500_000),
        ("8_000", 8000),
        ("8,000", 8000),
        (" 32k ", 32_000),
    ],
)
def test_budgets_parse(text, tokens):
    assert parse_budget(text) == tokens


@pytest.mark.parametrize("text", ["abc", "0", "-5", "1.5", "2g", "k", ""])
def test_bad_budgets_are_refused(text):
    with pytest.raises(UsageError, match="8000, 200k or 1M"):
        parse_budget(text)


def test_budget_precedence():
    assert choose(Settings(), model="gpt-4o").budget == 115_200
    assert choose(Settings(), model="gpt-4o", budget=50_000).budget == 50_000
    assert choose(Settings(budget=20_000), model="gpt-4o").budget == 115_200  # a model on the command line
    assert choose(Settings(budget=20_000, model="gpt-4o")).budget == 20_000  # both configured: the budget
    assert choose(Settings(model="claude-sonnet-4-5")).tokenizer == "claude-approx"
    assert choose(Settings()).budget == DEFAULT_BUDGET
    assert choose(Settings(), model="my-local-model", tokenizer="qwen3").tokenizer == "qwen3"
    with pytest.raises(UsageError, match="Unknown model"):
        choose(Settings(), model="my-local-model")
    assert choose(Settings(), model="gpt-4o", budget=200_000).warning().startswith("note: a budget of 200,000")


def test_cli_context_takes_a_model_and_a_budget_in_thousands(tmp_path, monkeypatch):
    from lifelog.cli.app import app

    monkeypatch.setenv("LIFELOG_HOME", str(tmp_path))
    runner = CliRunner()
    ok = runner.invoke(app, ["context", "--since", "1h", "--model", "gpt-4o", "--budget", "200k"])
    assert ok.exit_code == 0, ok.output
    assert "of 200,000" in ok.output and "(o200k)" in ok.output and "above what gpt-4o can take" in ok.output
    auto = runner.invoke(app, ["context", "--since", "1h", "--model", "claude-sonnet-4-5"])
    assert "(claude-approx) of 180,000" in auto.output
    bad = runner.invoke(app, ["context", "--model", "gpt-99"])
    assert bad.exit_code != 0 and "Unknown model 'gpt-99'" in str(bad.exception)


# -- images ---------------------------------------------------------------------------------
def test_images_cost_the_published_rates():
    gpt, claude, gemini = resolve("gpt-4o"), resolve("claude-sonnet-4-5"), resolve("gemini-2.5-flash")
    assert image_tokens(gpt, 1024, 1024) == 765  # 4 tiles: 85 + 4 x 170
    assert image_tokens(gpt, 2048, 4096) == 1105  # to 768 x 1536: 6 tiles
    assert image_tokens(gpt, 4096, 8192, detail="low") == 85
    assert image_tokens(resolve("gpt-4o-mini"), 1024, 1024) == 2833 + 4 * 5667
    assert image_tokens(resolve("gpt-4.1-mini"), 1024, 1024) == 1659  # 1,024 patches x 1.62
    assert image_tokens(claude, 1000, 1000) == 1334  # (w x h) / 750
    assert image_tokens(claude, 1920, 1080) <= 1600  # resized to about 1.15 megapixels
    assert image_tokens(gemini, 384, 384) == 258
    assert image_tokens(gemini, 1920, 1080) == 6 * 258  # 720-px tiles
    with pytest.raises(UsageError, match="no image rate"):
        image_tokens(resolve("llama3.1"), 100, 100)


@pytest.mark.parametrize("tokenizer", EXACT)
def test_a_long_text_counted_in_pieces_counts_as_the_whole(tokenizer):
    """Counting a long window in parallel pieces cut before a ``#`` at a line start gives the
    whole text's count: on every kind of text in the corpus, put between headings the way a
    window renders them, after punctuation, spaces, blank lines and CJK."""
    from lifelog.tokenize_media import tokenizers

    corpus = [row["text"] for row in CORPUS]
    ends = ["", ".", "  ", "\n", "。", "!!", "\t", "::", "\r"]
    sections = [f"### 10:0{i % 10}:00 · seen · app\n{text}{ends[i % len(ends)]}" for i, text in enumerate(corpus)]
    text = "\n\n".join(sections * max(1, (tokenizers.SPLIT_FROM * 2) // sum(map(len, sections)) + 1))
    assert len(text) > tokenizers.SPLIT_FROM
    whole = tokenizers._encoding(tokenizers._ENCODINGS[tokenizer]).count(text)
    tok = get_tokenizer(tokenizer)
    assert tok.count(text) == whole
    for parts in (2, 3, 7, 50):
        pieces = tokenizers.split_at_headings(text, parts)
        assert "".join(pieces) == text and len(pieces) > 1
        assert sum(tok.count_many(pieces)) == whole


def test_the_note_on_a_budget_too_big_names_the_model_as_given():
    from lifelog.tokenize_media.targets import choose

    choice = choose(Settings(), model="gemini-2.5-pro", tokenizer=None, budget=1_000_000)
    assert "gemini-2.5-pro can take" in choice.warning()
