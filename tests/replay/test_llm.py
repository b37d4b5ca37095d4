"""The OpenAI-compatible client's parts that servers disagree on: server-sent event framing,
error body shapes, non-streamed answers; and keys kept out of messages."""

from __future__ import annotations

import pytest

from lifelog.errors import ConfigError
from lifelog.replay.llm import ChatClient, Endpoint, error_message, sse_data
from tests.fake_openai import ANSWER, FakeOpenAI


def test_sse_framing():
    raw = [b": comment\n", b"event: message\n", b"data: {\"a\":\n", b"data: 1}\n", b"\n", b"\n",
           b"id: 7\r\n", b"data:[DONE]\r\n", b"\r\n", b"data: tail"]
    assert list(sse_data(raw)) == ['{"a":\n1}', "[DONE]", "tail"]


@pytest.mark.parametrize("body, message", [
    (b'{"error": {"message": "bad model", "type": "x"}}', "bad model"),
    (b'{"error": "model not loaded"}', "model not loaded"),
    (b'{"object": "error", "message": "vllm says no"}', "vllm says no"),
    (b'{"detail": "Not Found"}', "Not Found"),
    (b"upstream timeout\n", "upstream timeout"),
    (b"", "no details"),
])
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


def test_non_streaming_servers_and_complete():
    with FakeOpenAI("json") as api:
        assert ChatClient(Endpoint(api.base_url, "m")).complete([{"role": "user", "content": "hi"}]) == ANSWER
    with FakeOpenAI("stream") as api:
        assert list(ChatClient(Endpoint(api.base_url + "/", "m")).stream([])) == [
            "Dana said ", "the budget is ", "12% over; ", "moving the deploy to Thursday."]
        assert api.requests[0]["path"] == "/v1/chat/completions"
