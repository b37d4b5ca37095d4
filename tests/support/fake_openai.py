"""A real HTTP server on 127.0.0.1 speaking the OpenAI chat completions API, for `lifelog ask`.

It records every request (path, headers, JSON body) and answers as ``mode`` says:
``stream`` (server-sent events, one chunk per piece, optionally waiting for ``gate`` after the
first piece so a test can prove the answer reached stdout before it was complete), ``json``
(one non-streamed completion), or an error: ``401``, ``403``, ``context`` (400, context length
exceeded, as OpenAI words it), ``llamacpp-context`` (llama.cpp's wording), ``500``, ``midstream``
(an error event after the first piece); or as a careless or hostile server would: ``echo`` (200,
a JSON body quoting the request's headers, key included), ``redirect`` (308 to ``/openai/v1``),
``events`` (server-sent events carrying ``events``, each as given: malformed chunks).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PIECES = ["Dana said ", "the budget is ", "12% over; ", "moving the deploy to Thursday."]
ANSWER = "".join(PIECES)

ERRORS = {
    "401": (
        401,
        {
            "error": {
                "message": "Incorrect API key provided: sk-test****-123. You can find your API key "
                "at https://platform.openai.com/account/api-keys.",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
        },
    ),
    "403": (
        403,
        {"error": {"message": "Project does not have access to model gpt-4o", "type": "invalid_request_error"}},
    ),
    "context": (
        400,
        {
            "error": {
                "message": "This model's maximum context length is 128000 tokens. However, your "
                "messages resulted in 130512 tokens. Please reduce the length of the messages.",
                "type": "invalid_request_error",
                "code": "context_length_exceeded",
            }
        },
    ),
    "llamacpp-context": (
        400,
        {
            "error": {
                "code": 400,
                "message": "the request exceeds the available context size, try increasing it",
                "type": "exceed_context_size_error",
            }
        },
    ),
    "500": (500, {"error": {"message": "The server had an error while processing your request."}}),
}


class FakeOpenAI:
    def __init__(self, mode: str = "stream") -> None:
        self.mode = mode
        self.requests: list[dict] = []
        self.gate: threading.Event | None = None  # set by the test once it saw the first piece
        self.gate_passed: bool | None = None
        self.events: list = []  # mode "events": the data of each event, JSON-encoded
        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.gate is not None:
            self.gate.set()
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        mode = self.fake.mode
        if mode in ERRORS:
            status, payload = ERRORS[mode]
            return self._json(status, payload)
        if mode == "echo":
            return self._json(
                200, {"you_sent": {"authorization": self.headers.get("Authorization"), "path": self.path}}
            )
        if mode == "redirect":
            self.send_response(308)
            self.send_header("Location", "/openai/v1/chat/completions")
            self.send_header("Content-Length", "0")
            return self.end_headers()
        if mode == "json":
            return self._json(
                200,
                {
                    "id": "c1",
                    "object": "chat.completion",
                    "model": body["model"],
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}
                    ],
                },
            )
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._event({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})
        self._send(b": keep-alive comment\n\n")
        if mode == "events":
            for data in self.fake.events:
                self._event(data)
            return self._send(b"")
        for i, piece in enumerate(PIECES):
            self._event(
                {
                    "id": "c1",
                    "object": "chat.completion.chunk",
                    "model": body["model"],
                    "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                }
            )
            if i == 0 and mode == "midstream":
                self._event({"error": {"message": "upstream model crashed"}})
                return self._send(b"")
            if i == 0 and self.fake.gate is not None:
                self.fake.gate_passed = self.fake.gate.wait(20)
        self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        self._send(b"data: [DONE]\n\n")
        self._send(b"")  # the last chunk

    def _event(self, data) -> None:
        self._send(b"data: " + json.dumps(data).encode() + b"\n\n")

    def _send(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
