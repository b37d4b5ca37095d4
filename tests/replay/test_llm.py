"""The OpenAI-compatible client's parts that servers disagree on: server-sent event framing,
error body shapes, non-streamed answers; and what a careless or hostile server sends (malformed
chunks, a reply quoting the key, a redirect); keys kept out of messages and off plain http."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifelog.errors import ConfigError, EndpointError
from lifelog.replay.llm import ChatClient, Endpoint, delta_texts, error_message, sse_data
from tests.support.fake_openai import ANSWER, FakeOpenAI


def test_sse_framing():
    raw = [
        b": comment\n",
        b"event: message\n",
        b'data: {"a":\n',
        b"data: 1}\n",
        b"\n",
        b"\n",
        b"id: 7\r\n",
        b"data:[DONE]\r\n",
        b"\r\n",
        b"data: tail",
    ]
    assert list(sse_data(raw)) == ['{"a":\n1}', "[DONE]", "tail"]


@pytest.mark.parametrize(
    "body, message",
    [
        (b'{"error": {"message": "bad model", "type": "x"}}', "bad model"),
        (b'{"error": "model not loaded"}', "model not loaded"),
        (b'{"object": "error", "message": "vllm says no"}', "vllm says no"),
        (b'{"detail": "Not Found"}', "Not Found"),
        (b"upstream timeout\n", "upstream timeout"),
        (b"", "no details"),
    ],
)
def test_error_bodies_in_the_shapes_servers_use(body, message):
    assert error_message(body) == message


def test_keys_never_reach_a_message():
    client = ChatClient(Endpoint("https://api.example.com/v1", "m", api_key="sk-live-abcdef123456"))
    cleaned = client._clean("key sk-live-abcdef123456 or sk-proj-****3456 given; see /account/api-keys")
    assert "abcdef" not in cleaned and "****" not in cleaned and "api-keys" in cleaned
    assert "sk-live" not in repr(client.endpoint)
    assert client.endpoint.where() == "https://api.example.com/v1/chat/completions"


def test_a_bad_url_is_a_config_error():
    with pytest.raises(ConfigError, match="http"):
        ChatClient(Endpoint("127.0.0.1:8080/v1", "m"))


@pytest.mark.parametrize(
    "url",
    ["https://user:s3cr3t-pw@api.example.com/v1", "http://tok@127.0.0.1:8080/v1", "https://:pw@api.example.com/v1"],
)
def test_credentials_in_the_url_are_refused_not_dropped(url):
    with pytest.raises(ConfigError, match="does not send credentials from the URL") as caught:
        ChatClient(Endpoint(url, "m"))
    assert "s3cr3t" not in str(caught.value) and "pw" not in str(caught.value).replace("password", "")


def test_non_streaming_servers_and_complete():
    with FakeOpenAI("json") as api:
        assert ChatClient(Endpoint(api.base_url, "m")).complete([{"role": "user", "content": "hi"}]) == ANSWER
    with FakeOpenAI("stream") as api:
        assert list(ChatClient(Endpoint(api.base_url + "/", "m")).stream([])) == [
            "Dana said ",
            "the budget is ",
            "12% over; ",
            "moving the deploy to Thursday.",
        ]
        assert api.requests[0]["path"] == "/v1/chat/completions"


MALFORMED = [
    [None],
    {"choices": [None]},
    {"choices": "abc"},
    {"choices": 5},
    {"choices": [{"delta": "x"}]},
    {"choices": [{"delta": {"content": 5}}]},
    {"choices": [{"delta": {"content": ["a"]}}]},
    7,
    "text",
]


def test_a_malformed_stream_chunk_is_one_clear_error():
    with FakeOpenAI("events") as api:
        for chunk in MALFORMED:
            api.events = [{"choices": [{"delta": {"content": "so far "}}]}, chunk]
            with pytest.raises(
                EndpointError, match="answered with a stream chunk that is not an OpenAI chat completion"
            ):
                ChatClient(Endpoint(api.base_url, "m")).complete([])


def test_chunks_that_carry_no_text_are_fine():
    with FakeOpenAI("events") as api:
        api.events = [
            {"choices": []},
            {"choices": None},
            {"choices": [{"delta": None}]},
            {"choices": [{"delta": {"content": None, "reasoning_content": "hm"}}]},
            {"choices": [{"delta": {"content": "ok"}, "finish_reason": "stop"}]},
            {"usage": {"total_tokens": 3}},
        ]
        assert ChatClient(Endpoint(api.base_url, "m")).complete([]) == "ok"


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(["choices", "delta", "content", "x"]), inner, max_size=3)
        ),
        max_leaves=12,
    )
)
def test_any_json_chunk_gives_texts_or_a_value_error(chunk):
    try:
        texts = delta_texts(chunk)
    except ValueError:
        return
    assert all(isinstance(t, str) and t for t in texts)


def test_a_reply_quoting_the_request_never_shows_the_key():
    key = "sk-live-abcdef123456"
    with FakeOpenAI("echo") as api:
        with pytest.raises(
            EndpointError, match="answered with a reply that is not an OpenAI chat completion"
        ) as caught:
            ChatClient(Endpoint(api.base_url, "m", api_key=key)).complete([])
    assert api.requests[0]["headers"]["Authorization"] == f"Bearer {key}"  # it was sent, and quoted back
    assert key not in str(caught.value) and "abcdef" not in str(caught.value) and "[key]" in str(caught.value)


def test_a_redirect_names_the_base_url_to_set():
    with FakeOpenAI("redirect") as api:
        with pytest.raises(EndpointError) as caught:
            ChatClient(Endpoint(api.base_url, "m")).complete([])
    host = api.base_url.removesuffix("/v1")
    assert f"redirected (HTTP 308) to {host}/openai/v1/chat/completions; set the base URL to {host}/openai/v1" in str(
        caught.value
    )
    assert len(api.requests) == 1  # not followed


def test_the_base_urls_query_string_is_kept():
    with FakeOpenAI("stream") as api:
        endpoint = Endpoint(api.base_url + "?api-version=2024-06-01&key=s3cr3t-value", "m")
        assert ChatClient(endpoint).complete([]) == ANSWER
    assert api.requests[0]["path"] == "/v1/chat/completions?api-version=2024-06-01&key=s3cr3t-value"
    assert endpoint.where().endswith("/v1/chat/completions?api-version=2024-06-01&key=[key]")


@pytest.mark.parametrize(
    "url, refused",
    [
        ("http://10.1.2.3:8080/v1", True),
        ("http://api.example.com/v1", True),
        ("http://127.0.0.1.nip.io/v1", True),
        ("http://127.0.0.1:8080/v1", False),
        ("http://127.8.9.10/v1", False),
        ("http://localhost:11434/v1", False),
        ("http://[::1]:8080/v1", False),
        ("https://api.example.com/v1", False),
    ],
)
def test_a_key_over_plain_http_to_another_machine_is_refused(url, refused):
    if refused:
        with pytest.raises(ConfigError, match="Refusing to send the API key in clear text over plain http://"):
            ChatClient(Endpoint(url, "m", api_key="k-1"))
        ChatClient(Endpoint(url, "m", api_key="k-1", allow_insecure=True))  # when told so
    else:
        ChatClient(Endpoint(url, "m", api_key="k-1"))
    ChatClient(Endpoint(url, "m"))  # no key: nothing to leak
