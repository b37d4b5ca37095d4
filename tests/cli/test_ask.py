"""`lifelog ask` against a real HTTP server on 127.0.0.1 speaking the OpenAI chat API with
streaming: the request (context first, question last, model and key as set), the answer on
stdout as it arrives, the question and answer kept in the timeline, and one clear line for an
unreachable endpoint, a refused key and a context-length refusal."""

from __future__ import annotations

import json
import os
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from lifelog.api.ask import QUESTION_MARK, SYSTEM, messages, prompt_cost
from lifelog.api.server import OwnerServer
from lifelog.api.timeline import LocalTimeline, chunk_for_import
from lifelog.daemon.ownership import OwnerLock
from lifelog.errors import UsageError
from lifelog.models import OcrLine, Transcript
from lifelog.paths import Paths
from lifelog.store import Store
from tests.cli.helpers import lifelog
from tests.support.fake_openai import ANSWER, PIECES, FakeOpenAI
from tests.support.writes import show

KEY = "sk-test-not-a-real-key-123"
QUESTION = "what did Dana say about the budget?"


@pytest.fixture
def home(tmp_path):
    """A timeline with something seen and something heard ten minutes ago."""
    paths = Paths(tmp_path / "home").ensure()
    store = Store(paths.db)
    store.migrate()
    t0 = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=10)
    with store.write() as w:
        show(
            w,
            t0,
            "firefox",
            "Budget 2027",
            [OcrLine("Invoice 4821", (10, 10, 400, 30)), OcrLine("Total due: 1,250.00 EUR", (10, 40, 400, 60))],
        )
        w.close_spans(t0 + timedelta(minutes=1))
    heard = t0 + timedelta(minutes=2)
    LocalTimeline(paths, store).import_transcripts(
        [Transcript(heard, heard + timedelta(seconds=4), "file", "test", "Dana: the budget is twelve percent over.")],
        chunk_for_import(heard, 4.0),
        file="call.wav",
    )
    return paths


def _env(paths: Paths, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFELOG_")}
    return {**env, "LIFELOG_HOME": str(paths.home), **extra}


def _asks(paths: Paths) -> list[dict]:
    with Store(paths.db).read() as r:
        return [e for e in r.events_between(None, None) if e["kind"] == "ask"]


def test_ask_streams_the_answer_and_keeps_question_and_answer(home):
    with FakeOpenAI("stream") as api:
        api.gate = threading.Event()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lifelog.cli.app",
                "ask",
                QUESTION,
                "--since",
                "1h",
                "--model",
                "gpt-4o",
                "--base-url",
                api.base_url,
            ],
            env=_env(home, LIFELOG_ASK_API_KEY=KEY),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        first = _read_until(proc.stdout, PIECES[0].encode(), timeout=60)
        api.gate.set()  # the server sends the rest only now: the first piece was shown before
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert api.gate_passed is True
    assert (first + out).decode() == ANSWER + "\n"
    err = err.decode()
    assert "answered by gpt-4o" in err and "kept in the timeline" in err and KEY not in err

    (req,) = api.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["Authorization"] == f"Bearer {KEY}"
    body = req["body"]
    assert body["model"] == "gpt-4o" and body["stream"] is True
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    user = body["messages"][-1]["content"]
    assert user.startswith("# Computer activity")  # the window first ...
    assert user.index("Invoice 4821") < user.index("twelve percent over") < user.index(QUESTION)
    assert user.endswith(f"Question: {QUESTION}")  # ... the question last

    (event,) = _asks(home)
    d = event["detail"]
    assert (d["question"], d["answer"], d["model"], d["tokenizer"]) == (QUESTION, ANSWER, "gpt-4o", "o200k")
    assert d["endpoint"] == api.base_url + "/chat/completions" and 0 < d["window_tokens"] < 115_200
    assert KEY not in str(event)


def test_config_names_model_endpoint_and_key_variable_and_the_prefix_stays_the_same(home):
    with FakeOpenAI("stream") as api:
        home.config_file.parent.mkdir(parents=True, exist_ok=True)
        home.config_file.write_text(
            f'model = "qwen3"\nask_base_url = "{api.base_url}/"\nask_api_key_env = "MY_LLM_KEY"\n'
        )
        env = _env(home, MY_LLM_KEY=KEY)
        first = lifelog("ask", QUESTION, "--since", "1h", env=env)
        second = lifelog("ask", "and the deploy?", "--since", "1h", env=env)
        lifelog("ask", QUESTION, "--since", "1h", "--api-key-env", "OTHER", env={**env, "OTHER": "k2"})
    assert first.stdout == second.stdout == ANSWER + "\n"
    a, b, c = (r["body"]["messages"] for r in api.requests)
    window_a = a[1]["content"].split("---")[0]
    assert a[0] == b[0] and b[1]["content"].startswith(
        window_a.rstrip()
    )  # cache-friendly: the earlier window is a prefix
    assert f"Q: {QUESTION}" in b[1]["content"].split("---")[0]  # and the earlier question and answer follow it
    assert [r["body"]["model"] for r in api.requests] == ["qwen3"] * 3
    assert [r["headers"]["Authorization"] for r in api.requests] == [f"Bearer {KEY}"] * 2 + ["Bearer k2"]
    asks = _asks(home)
    assert [e["detail"]["tokenizer"] for e in asks] == ["qwen3"] * 3
    assert [e["detail"]["question"] for e in asks] == [QUESTION, "and the deploy?", QUESTION]


def test_ask_through_the_running_owner(home):
    """With an owner serving the timeline, the window and the event go over its socket."""
    lock = OwnerLock(home, "test")
    store = Store.open_owner(home.db)
    server = OwnerServer(home, LocalTimeline(home, store), lock.info).start()
    try:
        with FakeOpenAI("json") as api:  # and a server that does not stream
            proc = lifelog(
                "ask",
                QUESTION,
                "--since",
                "1h",
                "-m",
                "claude-sonnet-4-5",
                "--base-url",
                api.base_url,
                "--json",
                env=_env(home),
            )
        with store.read() as reader:
            asks = [e for e in reader.events_between(None, None) if e["kind"] == "ask"]
    finally:
        server.stop()
        store.close()
        lock.release()
    assert "Authorization" not in api.requests[0]["headers"]  # no key configured: none sent
    out = json.loads(proc.stdout)
    assert out["answer"] == ANSWER and out["window"]["tokenizer"] == "claude-approx"
    assert [e["detail"]["answer"] for e in asks] == [ANSWER]


@pytest.mark.parametrize(
    "mode, says",
    [
        ("unreachable", "Cannot reach the model endpoint http://127.0.0.1:"),
        ("401", "refused the API key (HTTP 401: Incorrect API key provided: [key]"),
        ("403", "refused the API key (HTTP 403: Project does not have access"),
        ("context", "too long for its context (HTTP 400: This model's maximum context length is 128000 tokens"),
        ("llamacpp-context", "too long for its context (HTTP 400: the request exceeds the available context size"),
        ("500", "answered HTTP 500: The server had an error"),
        ("midstream", "stopped with an error: upstream model crashed"),
        ("events", "answered with a stream chunk that is not an OpenAI chat completion: '{\"choices\": [null]}'"),
    ],
)
def test_endpoint_failures_are_one_clear_line(home, mode, says):
    with FakeOpenAI("stream" if mode == "unreachable" else mode) as api:
        api.events = [{"choices": [None]}]
        url = _closed_port_url() if mode == "unreachable" else api.base_url
        proc = lifelog(
            "ask",
            QUESTION,
            "--since",
            "1h",
            "-m",
            "gpt-4o",
            "--base-url",
            url,
            env=_env(home, LIFELOG_ASK_API_KEY=KEY),
            check=False,
        )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lifelog: error: ") and says in lines[0], proc.stderr
    assert KEY not in proc.stderr + proc.stdout and "Traceback" not in proc.stderr
    kept = _asks(home)
    if mode == "midstream":  # what was shown is kept, with the error
        assert proc.stdout == PIECES[0] and kept[0]["detail"]["answer"] == PIECES[0] and "error" in kept[0]["detail"]
    else:
        assert kept == []


@pytest.mark.parametrize(
    "args, says",
    [
        ([], "No model endpoint is set"),
        (["--base-url", "http://127.0.0.1:9/v1"], "Name the model to ask"),
        (["--base-url", "ftp://example/v1", "-m", "gpt-4o"], "give an http(s) URL"),
        (
            ["--base-url", "http://127.0.0.1:9/v1", "-m", "gpt-4o", "--api-key-env", "NOT_SET_ANYWHERE"],
            "names NOT_SET_ANYWHERE, which is not set",
        ),
        (["--base-url", "http://127.0.0.1:9/v1", "-m", "my-finetune"], "Unknown model 'my-finetune'"),
        (["--base-url", "http://127.0.0.1:9/v1", "-m", "gpt-4o", "--budget", "20"], "leaves no room for a window"),
    ],
)
def test_missing_settings_are_one_line_exit_2(home, args, says):
    proc = lifelog("ask", QUESTION, *args, env=_env(home), check=False)
    assert proc.returncode == 2 and says in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_a_key_over_plain_http_to_another_machine_is_refused_before_anything_is_sent(home):
    proc = lifelog(
        "ask",
        QUESTION,
        "-m",
        "gpt-4o",
        "--base-url",
        "http://192.0.2.7:8080/v1",
        env=_env(home, LIFELOG_ASK_API_KEY=KEY),
        check=False,
    )
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Refusing to send the API key in clear text over plain http:// to 192.0.2.7" in proc.stderr
    assert "--allow-insecure" in proc.stderr and KEY not in proc.stderr and _asks(home) == []


def test_any_model_name_with_a_named_tokenizer(home):
    with FakeOpenAI("stream") as api:
        proc = lifelog(
            "ask",
            QUESTION,
            "-m",
            "my-finetune",
            "--tokenizer",
            "llama3",
            "--budget",
            "4k",
            "--base-url",
            api.base_url,
            env=_env(home),
        )
    assert proc.stdout == ANSWER + "\n" and api.requests[0]["body"]["model"] == "my-finetune"
    assert "of 3," in proc.stderr  # 4k less the system message and the question


def test_prompt_puts_the_window_first_and_the_question_last():
    msgs = messages("# Computer activity\n\nline\n", "  why?  ")
    assert msgs[0] == {"role": "system", "content": SYSTEM}
    assert msgs[1]["content"] == "# Computer activity\n\nline" + QUESTION_MARK + "why?"
    assert prompt_cost("why?", "o200k") > 40


def test_clients_may_record_only_their_own_events(home):
    timeline = LocalTimeline(home, Store(home.db))
    with pytest.raises(UsageError, match="Clients may record: ask"):
        timeline.record_event("gap", {}, at=None)


@pytest.mark.skipif(not shutil.which("strace"), reason="needs strace (scripts/install.sh --test installs it)")
def test_ask_connects_only_to_the_endpoint_it_was_given(home, tmp_path):
    """Under strace: every internet socket lifelog connects goes to the configured host and port
    (no DNS lookup, no proxy, nothing else), the only command that may open one at all."""
    traces = tmp_path / "trace"
    traces.mkdir()
    with FakeOpenAI("stream") as api:
        port = api.base_url.split(":")[2].split("/")[0]
        proc = subprocess.run(
            [
                "strace",
                "-ff",
                "-qq",
                "-e",
                "trace=connect,sendto",
                "-e",
                "signal=none",
                "-o",
                str(traces / "t"),
                sys.executable,
                "-m",
                "lifelog.cli.app",
                "ask",
                QUESTION,
                "-m",
                "gpt-4o",
                "--base-url",
                api.base_url,
            ],
            env=_env(
                home, LIFELOG_ASK_API_KEY=KEY, HTTPS_PROXY="http://10.9.9.9:3128", HTTP_PROXY="http://10.9.9.9:3128"
            ),
            capture_output=True,
            text=True,
            timeout=120,
        )
    if proc.returncode != 0 and "ptrace" in proc.stderr:
        pytest.skip(f"strace cannot trace here: {proc.stderr.strip()}")
    assert proc.returncode == 0 and proc.stdout == ANSWER + "\n", proc.stderr
    inet = [line for t in traces.iterdir() for line in t.read_text().splitlines() if "sa_family=AF_INET" in line]
    assert inet and all(f"sin_port=htons({port})" in line and '"127.0.0.1"' in line for line in inet), inet


def _read_until(pipe, wanted: bytes, timeout: float) -> bytes:
    got, deadline = b"", time.monotonic() + timeout
    while wanted not in got:
        assert time.monotonic() < deadline, f"no {wanted!r} on stdout in {timeout} s; got {got!r}"
        if select.select([pipe], [], [], 0.5)[0]:
            chunk = os.read(pipe.fileno(), 4096)
            assert chunk, f"stdout closed after {got!r}"
            got += chunk
    return got


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
