"""A scripted HTTP server on 127.0.0.1 standing in for api.php and upload.wikimedia.org.

It serves, in order, the answers it was given (status, headers, body, an optional delay) — or
whatever a handler function returns — and records every request it got, so a test can check
what a client sent. A real server on an ephemeral port, so the client under test runs its real
HTTP code: timeouts, retries, streaming.

    with FakeAPI([Answer.json({"batchcomplete": True})]) as api:
        client = CommonsClient(api.url, "test@example.org")
        ...
        assert api.requests[0].params["action"] == "query"

When the script runs out, the server answers 404 with a body saying so, and counts it in
`unexpected`.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, urlsplit

# Recorded answers of a real MediaWiki: a copy in the repository if there is one, else the shared one.
_SAMPLE_DIRS = (Path(__file__).parent / "samples" / "commons",)
SAMPLES = next((path for path in _SAMPLE_DIRS if path.is_dir()), _SAMPLE_DIRS[0])


def recorded(name: str) -> dict:
    """A recorded answer, fresh each call (the `response` part of files that also hold their request)."""
    data = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return data.get("response", data)


@dataclass
class Answer:
    """One scripted answer. A dict or list body is sent as JSON, a str as UTF-8 text."""

    body: bytes | str | dict | list = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to test timeouts)
    chunked: bool = False  # send with Transfer-Encoding: chunked and no Content-Length

    @classmethod
    def json(cls, data: Any, **kwargs) -> Answer:
        return cls(body=data, **kwargs)

    @classmethod
    def sample(cls, name: str, **kwargs) -> Answer:
        """Serve a recorded answer (see `recorded`)."""
        return cls(body=recorded(name), **kwargs)

    def encoded(self) -> tuple[bytes, str]:
        """The body as bytes, and its default content type."""
        if isinstance(self.body, (dict, list)):
            return json.dumps(self.body, ensure_ascii=False).encode(), "application/json; charset=utf-8"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return self.body, "application/octet-stream"


@dataclass(frozen=True)
class Request:
    """What the server received. Header names are lower-case; repeated params keep the last."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes


class FakeAPI:
    def __init__(
        self,
        answers: Iterable[Answer] = (),
        *,
        handler: Callable[[Request], Answer] | None = None,
        path: str = "/w/api.php",
    ):
        """Serve `answers` in order, or, if given, whatever handler(request) returns."""
        self._answers: deque[Answer] = deque(answers)
        self._handler = handler
        self._path = path
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[Request] = []
        self.unexpected = 0  # requests that found the script empty

    # --- Script ---

    def add(self, *answers: Answer) -> None:
        with self._lock:
            self._answers.extend(answers)

    @property
    def pending(self) -> int:
        """Scripted answers not served yet."""
        with self._lock:
            return len(self._answers)

    # --- Life cycle ---

    def start(self) -> FakeAPI:
        fake = self

        class Handler(_Handler):
            api = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="FakeAPI", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # cuts scripted delays short
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeAPI:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeAPI is not started.")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """The API endpoint's URL (any path is served the same way)."""
        return self.base_url + self._path

    # --- Serving ---

    def _answer(self, request: Request) -> Answer:
        with self._lock:
            self.requests.append(request)
            if self._handler is None:
                if self._answers:
                    return self._answers.popleft()
                self.unexpected += 1
                return Answer(f"FakeAPI: no answer scripted for request #{len(self.requests)}", status=404)
        return self._handler(request)  # outside the lock: a slow handler must not block others


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up stop()

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that hung up is no news
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    api: FakeAPI
    protocol_version = "HTTP/1.1"
    timeout = 10  # an idle keep-alive connection ends after this

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def _serve(self):
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if self.headers.get_content_type() == "application/x-www-form-urlencoded":
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        request = Request(
            method=self.command,
            path=parts.path,
            params=params,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        answer = self.api._answer(request)
        if answer.delay and self.api._stopping.wait(answer.delay):
            return
        try:
            self._send(answer)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a timeout test)

    def _send(self, answer: Answer):
        data, content_type = answer.encoded()
        self.send_response(answer.status)
        headers = {"Content-Type": content_type, **answer.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        if answer.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(data), 8192):
                piece = data[start:start + 8192]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        else:
            declared = next((int(v) for n, v in headers.items() if n.lower() == "content-length"), None)
            if declared is None:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            if declared is not None and declared > len(data):
                self.close_connection = True  # an answer cut short: the client sees the end of it

    def log_message(self, format, *args):
        pass  # keep test output clean
