"""A client for any OpenAI-compatible chat endpoint (OpenAI, llama.cpp's server, vLLM, Ollama,
LM Studio, OpenRouter, ...): ``POST {base_url}/chat/completions`` with ``"stream": true``,
read as server-sent events, the answer's text yielded as it arrives.

The standard library's ``http.client``, so the only socket opened goes to the configured host
(no proxy variables, no redirects followed: a redirect is explained, with the URL to set).
One essential method, :meth:`ChatClient.stream`; :meth:`ChatClient.complete` derives from it.
Failures are one-line :class:`EndpointError` s: unreachable, a refused key, a request too long
for the model's context, a redirect, any other HTTP error, a reply that is not a chat completion.
The key is sent only in the ``Authorization`` header, never over plain http to another machine
(unless ``allow_insecure``), and never appears in a message, even when a reply quotes it.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import re
import socket
import ssl
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from lifelog.errors import ConfigError, ContextTooLong, EndpointAuthError, EndpointError, EndpointUnreachable

CONNECT_TIMEOUT_S = 15.0
_TOO_LONG = re.compile(r"context|too long|too many tokens|maximum.{0,60}tokens|exceed", re.I)
_KEYLIKE = re.compile(r"\b(?:sk|key|api)[-_](?=[\w*\-]*[\d*])[\w*\-]{6,}", re.I)  # has a digit or a *


@dataclass(frozen=True)
class Endpoint:
    base_url: str  # e.g. https://api.openai.com/v1 or http://127.0.0.1:8080/v1
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 600.0  # longest silence between bytes (a long prefill can take minutes)
    allow_insecure: bool = False  # send the key over plain http to another machine
    max_tokens: int | None = None  # the longest answer asked for (None: the endpoint's own limit)

    def where(self) -> str:
        """The URL called, for messages (never the key, nor a query value named like a secret)."""
        parts = urllib.parse.urlsplit(self.base_url.strip())
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        query = _masked_query(parts.query)
        return f"{parts.scheme}://{host}{parts.path.rstrip('/')}/chat/completions" + (f"?{query}" if query else "")


class ChatClient:
    id = "openai-chat"

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        parts = urllib.parse.urlsplit(endpoint.base_url.strip())
        host = parts.hostname
        if parts.scheme not in ("http", "https") or not host:
            raise ConfigError(
                f"ask_base_url = {endpoint.base_url!r}: give an http(s) URL such as "
                "http://127.0.0.1:8080/v1 or https://api.openai.com/v1."
            )
        if parts.username is not None or parts.password is not None:
            raise ConfigError(
                f"ask_base_url names a user or password before {parts.hostname!r} ('user:pass@'): lifelog "
                "does not send credentials from the URL. Remove them, and give the key in "
                "LIFELOG_ASK_API_KEY or the variable named by ask_api_key_env (--api-key-env)."
            )
        if parts.scheme == "http" and endpoint.api_key and not endpoint.allow_insecure and not is_loopback(host):
            raise ConfigError(
                f"Refusing to send the API key in clear text over plain http:// to {parts.hostname} "
                "(anyone on the way can read it): use https://, or pass --allow-insecure if you trust "
                "the network."
            )
        self._parts, self._host = parts, host

    def complete(self, messages: list[dict]) -> str:
        return "".join(self.stream(messages))

    def stream(self, messages: list[dict]) -> Iterator[str]:
        """Yield the answer's text piece by piece as the endpoint sends it."""
        conn = self._connect()
        try:
            resp = self._post(conn, messages)
            if "text/event-stream" not in (resp.getheader("Content-Type") or ""):
                yield self._whole_answer(self._read(resp))  # a server that answers in one piece
                return
            for data in sse_data(self._lines(resp)):
                if data.strip() == "[DONE]":
                    return
                yield from self._delta_text(self._chunk(data), data)
        finally:
            conn.close()

    # -- transport ------------------------------------------------------------------------
    def _connect(self) -> http.client.HTTPConnection:
        p = self._parts
        conn: http.client.HTTPConnection
        if p.scheme == "https":
            conn = http.client.HTTPSConnection(
                self._host, p.port, timeout=CONNECT_TIMEOUT_S, context=ssl.create_default_context()
            )
        else:
            conn = http.client.HTTPConnection(self._host, p.port, timeout=CONNECT_TIMEOUT_S)
        try:
            conn.connect()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise self._unreachable(exc) from None
        conn.sock.settimeout(self.endpoint.timeout_s)
        return conn

    def _post(self, conn, messages) -> http.client.HTTPResponse:
        request = {"model": self.endpoint.model, "messages": messages, "stream": True}
        if self.endpoint.max_tokens is not None:
            request["max_tokens"] = self.endpoint.max_tokens
        body = json.dumps(request, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream", "User-Agent": "lifelog"}
        if self.endpoint.api_key:
            headers["Authorization"] = f"Bearer {self.endpoint.api_key}"
        path = (
            self._parts.path.rstrip("/") + "/chat/completions" + (f"?{self._parts.query}" if self._parts.query else "")
        )
        try:
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            raise self._unreachable(exc) from None
        if resp.status >= 400:
            raise self._http_error(resp.status, self._read(resp), len(body))
        if 300 <= resp.status < 400:
            raise self._redirected(resp.status, resp.getheader("Location"), path)
        return resp

    def _read(self, resp) -> bytes:
        try:
            return resp.read()
        except (OSError, http.client.HTTPException) as exc:
            raise self._unreachable(exc) from None

    def _lines(self, resp) -> Iterator[bytes]:
        while True:
            try:
                line = resp.readline()
            except (OSError, http.client.HTTPException) as exc:
                raise self._unreachable(exc, during=True) from None
            if not line:
                return
            yield line

    def _chunk(self, data: str) -> dict:
        try:
            chunk = json.loads(data)
        except ValueError:
            raise EndpointError(
                f"The model endpoint {self.endpoint.where()} sent something that is not an "
                f"OpenAI chat stream: {self._clean(data)[:120]!r}."
            ) from None
        if isinstance(chunk, dict) and chunk.get("error"):
            raise EndpointError(
                f"The model endpoint {self.endpoint.where()} stopped with an error: "
                f"{self._clean(error_message(json.dumps(chunk).encode()))}"
            )
        return chunk

    def _delta_text(self, chunk, data: str) -> list[str]:
        try:
            return delta_texts(chunk)
        except ValueError:
            raise self._not_chat("a stream chunk", data) from None

    def _whole_answer(self, body: bytes) -> str:
        try:
            text = json.loads(body)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise self._not_chat("a reply", body.decode("utf-8", "replace")) from None
        if text is not None and not isinstance(text, str):
            raise self._not_chat("a reply", body.decode("utf-8", "replace"))
        return text or ""

    # -- errors ---------------------------------------------------------------------------
    def _not_chat(self, what: str, text: str) -> EndpointError:
        return EndpointError(
            f"The model endpoint {self.endpoint.where()} answered with {what} that is not an OpenAI "
            f"chat completion: {self._clean(text)[:120]!r}. Check --base-url (it should end where "
            "/chat/completions is served, often .../v1)."
        )

    def _redirected(self, status: int, location: str | None, path: str) -> EndpointError:
        where = self.endpoint.where()
        if not location:
            return EndpointError(
                f"The model endpoint {where} answered HTTP {status} (a redirect) without saying "
                "where to; check --base-url."
            )
        target = urllib.parse.urljoin(f"{self._parts.scheme}://{self._parts.netloc}{path}", location)
        t = urllib.parse.urlsplit(target)
        base = urllib.parse.urlunsplit(t._replace(path=t.path.removesuffix("/chat/completions"), fragment=""))
        return EndpointError(
            f"The model endpoint {where} redirected (HTTP {status}) to {self._clean(target)}; set the "
            f"base URL to {self._clean(base)} (--base-url or ask_base_url): lifelog does not follow "
            "redirects."
        )

    def _unreachable(self, exc: BaseException, during: bool = False) -> EndpointUnreachable:
        reason = (
            "timed out"
            if isinstance(exc, (TimeoutError, socket.timeout))
            else self._clean(getattr(exc, "strerror", None) or str(exc) or type(exc).__name__)
        )
        if during:
            return EndpointUnreachable(f"The model endpoint {self.endpoint.where()} stopped answering ({reason}).")
        return EndpointUnreachable(
            f"Cannot reach the model endpoint {self.endpoint.where()} ({reason}). Is the server running? "
            "Check --base-url or ask_base_url."
        )

    def _http_error(self, status: int, body: bytes, request_bytes: int) -> EndpointError:
        where, detail = self.endpoint.where(), self._clean(error_message(body))
        if status in (401, 403):
            hint = (
                "Check the key in LIFELOG_ASK_API_KEY or the variable named by ask_api_key_env (--api-key-env)."
                if self.endpoint.api_key
                else "No key was sent: set LIFELOG_ASK_API_KEY, or name the variable holding it with "
                "ask_api_key_env (--api-key-env)."
            )
            return EndpointAuthError(
                f"The model endpoint {where} refused the API key (HTTP {status}: {detail}). {hint}"
            )
        if status in (400, 413, 422) and _TOO_LONG.search(detail):
            return ContextTooLong(
                f"The model refused the request as too long for its context (HTTP {status}: {detail})."
            )
        if status == 404:
            return EndpointError(
                f"The model endpoint {where} answered HTTP 404 ({detail}). Check --model, and "
                "that the base URL ends where /chat/completions is served (often .../v1)."
            )
        return EndpointError(f"The model endpoint {where} answered HTTP {status}: {detail}")

    def _clean(self, text: str) -> str:
        """One line, at most 300 characters, and no key (nor anything that looks like one)."""
        if self.endpoint.api_key:
            text = text.replace(self.endpoint.api_key, "[key]")
        text = _KEYLIKE.sub("[key]", " ".join(text.split()))
        return text[:300] + ("…" if len(text) > 300 else "")


def error_message(body: bytes) -> str:
    """The message of an error body in the shapes servers use: OpenAI's ``{"error": {"message"}}``,
    ``{"error": "..."}``, vLLM's ``{"message"}``, FastAPI's ``{"detail"}``, or plain text."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip() or "no details"
    if not isinstance(data, dict):
        return json.dumps(data)
    err = data.get("error", data)
    if isinstance(err, dict):
        return str(err.get("message") or err.get("detail") or err.get("msg") or json.dumps(err))
    return str(err if "error" in data else data.get("message") or data.get("detail") or json.dumps(data))


def sse_data(lines: Iterable[bytes]) -> Iterator[str]:
    """The ``data`` of each server-sent event (multi-line data joined by newlines; comments,
    ``event:``/``id:`` fields and keep-alives skipped)."""
    data: list[str] = []
    for raw in lines:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


def delta_texts(chunk) -> list[str]:
    """The answer's text in one stream chunk (``choices[].delta.content``, empty ones left out;
    ``reasoning_content`` is not the answer); :class:`ValueError` when the chunk is not shaped
    like a chat stream's (``{"choices": [null]}``, a list, a number for content)."""
    choices = chunk.get("choices") or [] if isinstance(chunk, dict) else None
    if not isinstance(choices, list):
        raise ValueError("not a chat stream chunk")
    texts = []
    for choice in choices:
        delta = (choice.get("delta") or {}) if isinstance(choice, dict) else None
        text = delta.get("content") if isinstance(delta, dict) else ValueError
        if text is ValueError or (text is not None and not isinstance(text, str)):
            raise ValueError("not a chat stream chunk")
        if text:
            texts.append(text)
    return texts


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8, ``::1``), without a DNS lookup."""
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


_SECRET_NAME = re.compile(r"key|token|secret|sig|pass|auth|cred", re.I)


def _masked_query(query: str) -> str:
    """The query string for messages: values of parameters named like a secret as ``[key]``."""
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    return urllib.parse.urlencode([(k, "[key]" if _SECRET_NAME.search(k) else v) for k, v in pairs], safe="[]")
