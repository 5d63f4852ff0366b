"""A real OpenAI-compatible HTTP server on 127.0.0.1 whose replies each test scripts.

It stands in for the remote LLM (Albert, Ollama, vLLM…), the one part of the assistant that
lives outside the process. It speaks the Chat Completions protocol over real HTTP, so the
production client (langchain-openai on the openai SDK) is exercised as it is in production:

    with FakeLLM(reply=lambda request: "Réponse [1]") as llm:
        settings = Settings(answerer="openai", llm_base_url=llm.base_url, ...)
        ...
        llm.requests[-1].system  # the system prompt the assistant sent

Set `reply` (a string, or a callable taking the request JSON and returning the text),
`status` (e.g. 500 to simulate a failing endpoint) or `delay_s` (to simulate a slow one).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = Callable[[dict], str]
MODEL = "fake-model"
_PIECE = 8  # characters per streamed chunk


@dataclass
class RecordedRequest:
    """One request the fake received: path, headers (lower-cased names) and JSON body."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict

    def content(self, role: str) -> str:
        """The text of the messages sent with this role, joined."""
        return "\n".join(
            m["content"] for m in self.body.get("messages", []) if m.get("role") == role
        )

    @property
    def system(self) -> str:
        """The system prompt."""
        return self.content("system")

    @property
    def user(self) -> str:
        """The user message (passages and question)."""
        return self.content("user")


class FakeLLM:
    """An OpenAI-compatible endpoint in a background thread, scripted by the test."""

    def __init__(
        self, reply: Reply | str = "Réponse de test [1]", models: tuple[str, ...] = (MODEL,)
    ):
        self.reply: Reply | str = reply
        self.status = 200
        self.delay_s = 0.0
        self.models = models
        self.requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The URL to put in ASSISTANT_LLM_BASE_URL (ends with /v1)."""
        if self._server is None:
            raise RuntimeError("FakeLLM is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def completions(self) -> list[RecordedRequest]:
        """The chat completion requests received, oldest first."""
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    def start(self) -> FakeLLM:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread."""
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True  # a delayed reply must not hold up stop()
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release delayed replies, stop serving and free the port."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _text(self, body: dict) -> str:
        return self.reply(body) if callable(self.reply) else self.reply


def _usage(body: dict, text: str) -> dict:
    # Word counts stand in for tokens: clients only check the shape.
    prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    completion = len(text.split())
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeLLM  # set on the subclass that FakeLLM.start() creates

    def log_message(self, format, *args) -> None:  # noqa: A002 - keep pytest output quiet
        pass

    def _record(self, body: dict) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.fake.requests.append(RecordedRequest(self.command, self.path, headers, body))

    def _send_json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, status: int, message: str, kind: str) -> None:
        self._send_json(status, {"error": {"message": message, "type": kind, "code": None}})

    def do_GET(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        self._record({})
        if self.path.rstrip("/") != "/v1/models":
            self._send_error(404, f"Unknown path {self.path}", "invalid_request_error")
            return
        models = [
            {"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.fake.models
        ]
        self._send_json(200, {"object": "list", "data": models})

    def do_POST(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._record({"raw": raw.decode(errors="replace")})
            self._send_error(400, "Body is not JSON", "invalid_request_error")
            return
        self._record(body)
        if self.path != "/v1/chat/completions":
            self._send_error(404, f"Unknown path {self.path}", "invalid_request_error")
            return
        if self.fake.delay_s and self.fake._stopping.wait(self.fake.delay_s):
            return  # the server is stopping: drop the connection
        if self.fake.status != 200:
            self._send_error(self.fake.status, f"Simulated HTTP {self.fake.status}", "server_error")
            return
        text = self.fake._text(body)
        try:
            if body.get("stream"):
                self._stream(body, text)
            else:
                self._complete(body, text)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout); nothing left to answer

    def _complete(self, body: dict, text: str) -> None:
        self._send_json(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", MODEL),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": _usage(body, text),
            },
        )

    def _stream(self, body: dict, text: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        base = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", MODEL),
        }

        def event(delta: dict, finish_reason: str | None = None, **extra) -> None:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            payload = {**base, "choices": [choice], **extra}
            self.wfile.write(f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode())
            self.wfile.flush()

        event({"role": "assistant", "content": ""})
        for start in range(0, len(text), _PIECE):
            event({"content": text[start : start + _PIECE]})
        event({}, "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            usage_event = {**base, "choices": [], "usage": _usage(body, text)}
            self.wfile.write(f"data: {json.dumps(usage_event, ensure_ascii=False)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
