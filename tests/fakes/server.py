"""The shared base of the fake platforms: a loopback HTTP server with a request log and faults.

A fake platform (`graph.FakeGraph`, `x.FakeX`) subclasses `FakeServer` and implements three
things: `category(req)` (which kind of endpoint a request hits), `route(req)` (the normal answer)
and `fault_response(fault, req)` (the platform's own error body for an injected fault).

Tests switch faults at any time, from any thread::

    fake.fail_next("429")                      # the next publishing call is rate limited
    fake.fail_next("500", count=3, on="any")   # the next three calls of any kind fail
    fake.fail_next("500", html=True)           # a non-JSON 502 page, as from a load balancer
    fake.fail_next("slow", seconds=3)          # accept, then answer 3 s later
    fake.fail_next("hold"); ...; fake.held.wait(5); ...; fake.release()

Fault kinds (FAULT_KINDS):
- "500": a 5xx with the platform's error body (options: `status`, `html=True` for an HTML page).
- "429": rate limited (X: 429 + `x-rate-limit-reset` `reset_in` seconds ahead; Graph: code
  `code`, default 4).
- "expired": the credentials expired (Graph: code 190/463; X: 401).
- "error": any other error, in the platform's own body (Graph: `code`, `subcode`, `status`
  (default 400), `message`; X: `status` (default 400), `detail`, `title`).
- "garbled": process (accept) the request, then answer with its normal body but a broken
  envelope: `content_type` (default: no Content-Type header at all), `status` (default: the
  normal one), `body` (default: the normal one) — facebook-sdk raises KeyError for an answer
  without Content-Type; `body="<html>..."` is a success page no SDK can read.
- "drop": close the connection without processing the request or answering.
- "slow": process (accept) the request at once, then wait `seconds` before answering, so a client
  that times out has still published ("timed out but it went out").
- "drop_after_accept": process (accept) the request, then close the connection without answering.
- "hold": accept on arrival, set `fake.held`, answer only after `fake.release()` (or `stop()`),
  so a test can kill the client while the platform holds its request: the post is on the
  platform whatever happens to the client.

Faults target publishing endpoints by default (`on="publish"`); `on` may also be "upload"
(X media), "lookup" (reads) or "any"; `path=` further restricts by a regular expression.
Each request is handled in its own thread; state changes (`route`) run under one lock, so
concurrent clients see the platform's checks (e.g. duplicates) atomically.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

FAULT_KINDS = (
    "500",
    "429",
    "expired",
    "error",
    "drop",
    "slow",
    "drop_after_accept",
    "hold",
    "garbled",
)
#: faults answered with an error instead of processing the request
ERROR_KINDS = ("500", "429", "expired", "error")
TARGETS = ("publish", "upload", "lookup", "any")


@dataclass
class Request:
    """One request as the fake received it (kept in `fake.log`)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    form: dict[str, str] = field(default_factory=dict)  # urlencoded or multipart text fields
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # name -> (filename, data)
    json: Any = None
    category: str = "other"
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def arg(self, name: str) -> str | None:
        """A parameter from the body, else from the query string."""
        if name in self.form:
            return self.form[name]
        values = self.query.get(name)
        return values[-1] if values else None

    @classmethod
    def parse(cls, method: str, target: str, headers, body: bytes) -> Request:
        parts = urlsplit(target)
        req = cls(
            method,
            parts.path,
            parse_qs(parts.query, keep_blank_values=True),
            {k.lower(): v for k, v in headers.items()},
            body,
        )
        ctype = req.headers.get("content-type", "")
        if ctype.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
            req.form = {k: v[-1] for k, v in form.items()}
        elif ctype.startswith("multipart/form-data"):
            req.form, req.files = _parse_multipart(ctype, body)
        elif ctype.startswith("application/json") and body:
            try:
                req.json = json.loads(body)
            except ValueError:
                req.json = None
        return req


def _parse_multipart(ctype: str, body: bytes):
    """Text fields and files of a multipart/form-data body (byte-exact, unlike cgi/email)."""
    match = re.search(r'boundary="?([^";]+)"?', ctype)
    form, files = {}, {}
    if not match:
        return form, files
    for part in body.split(b"--" + match.group(1).encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        disposition = head.decode("utf-8", "replace")
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        if not name:
            continue
        if filename:
            files[name.group(1)] = (filename.group(1), data)
        else:
            form[name.group(1)] = data.decode("utf-8", "replace")
    return form, files


@dataclass
class Response:
    """An answer; `body` may be bytes, str, or anything JSON-serialisable."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "application/json"

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, ensure_ascii=False).encode()


@dataclass
class Fault:
    """One switched fault: `kind` for the next `remaining` matching requests (None: forever)."""

    kind: str
    remaining: int | None = 1
    on: str = "publish"
    path: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def matches(self, req: Request) -> bool:
        if self.on != "any" and req.category != self.on:
            return False
        return self.path is None or re.search(self.path, req.path) is not None


class FakeServer:
    """A platform fake on 127.0.0.1 (a free port), served by a daemon thread."""

    #: default seconds of a "slow" fault
    slow_seconds = 2.0
    #: default seconds until a rate limit resets
    reset_in = 900

    def __init__(self, port: int = 0):
        self._port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # faults, log, holds
        self.state_lock = threading.RLock()  # platform state, taken around route()
        self._faults: deque[Fault] = deque()
        self._gate = threading.Event()
        self._stopping = threading.Event()
        #: every request received, in arrival order
        self.log: list[Request] = []
        #: seconds to wait before handling each request (for benchmarks)
        self.latency = 0.0
        #: set when a "hold" fault has caught a request; cleared by `release()`
        self.held = threading.Event()
        self.held_requests: list[Request] = []
        #: the platform's clock; tests may replace it (a callable returning an aware datetime)
        self.clock = lambda: datetime.now(UTC)

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeServer:
        self._stopping.clear()
        self._gate = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self._port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self  # type: ignore[attr-defined]
        self._httpd.handle_error = lambda request, address: None  # clients hang up on purpose
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"{type(self).__name__}-server",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._gate.set()  # let held requests finish
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd, "the fake is not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- faults ----------------------------------------------------------------------------
    def fail_next(
        self,
        kind: str,
        count: int | None = 1,
        *,
        on: str = "publish",
        path: str | None = None,
        **options,
    ) -> None:
        """Answer the next `count` matching requests (None: all, until `clear_faults`) with a fault.

        Faults queue up in order: `fail_next("500"); fail_next("429")` fails the first publishing
        call with a 500, the second with a 429.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {FAULT_KINDS}")
        if on not in TARGETS:
            raise ValueError(f"unknown target {on!r}; one of {TARGETS}")
        with self._lock:
            self._faults.append(Fault(kind, count, on, path, options))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def release(self) -> None:
        """Let every held request answer."""
        with self._lock:
            gate, self._gate = self._gate, threading.Event()
            self.held.clear()
        gate.set()

    def requests(self, category: str | None = None, method: str | None = None) -> list[Request]:
        """The logged requests, optionally of one category and/or method."""
        with self._lock:
            return [
                r
                for r in self.log
                if (category is None or r.category == category)
                and (method is None or r.method == method)
            ]

    def _take_fault(self, req: Request) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(req):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    # ---- to implement ----------------------------------------------------------------------
    def category(self, req: Request) -> str:
        """ "publish", "upload", "lookup" or "other"."""
        raise NotImplementedError

    def route(self, req: Request) -> Response:
        """The normal answer (called with `state_lock` held)."""
        raise NotImplementedError

    def fault_response(self, fault: Fault, req: Request) -> Response:
        """The platform's answer for an error fault ("500", "429", "expired", "error")."""
        raise NotImplementedError

    # ---- dispatch --------------------------------------------------------------------------
    def dispatch(self, req: Request) -> Response | None:
        """The answer to `req`, or None to close the connection without one."""
        req.category = self.category(req)
        with self._lock:
            self.log.append(req)
        if self.latency:
            self._stopping.wait(self.latency)
        fault = self._take_fault(req)
        kind = fault.kind if fault else None
        if kind == "drop":
            return None
        if kind in ERROR_KINDS:
            return self.fault_response(fault, req)
        with self.state_lock:
            response = self.route(req)
        if kind == "drop_after_accept":
            return None
        if kind == "garbled":
            response.content_type = fault.options.get("content_type")
            response.status = fault.options.get("status", response.status)
            response.body = fault.options.get("body", response.body)
        if kind == "slow":
            self._stopping.wait(fault.options.get("seconds", self.slow_seconds))
        elif kind == "hold":
            with self._lock:
                gate = self._gate
                self.held_requests.append(req)
            self.held.set()
            gate.wait()
        return response

    @staticmethod
    def trace_id(n: int = 11) -> str:
        return secrets.token_urlsafe(n)[:n]


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so a dropped or held connection never poisons a
    # pooled keep-alive connection of the next test.
    protocol_version = "HTTP/1.0"

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake: FakeServer = self.server.fake  # type: ignore[attr-defined]
        response = fake.dispatch(Request.parse(self.command, self.path, self.headers, body))
        if response is None:
            self.close_connection = True
            return
        data = response.encoded()
        try:
            self.send_response(response.status)
            if response.content_type:
                self.send_header("Content-Type", response.content_type)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (timeout, killed): a real platform would not notice either

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def log_message(self, format, *args):  # keep test output clean
        pass


def serve_forever(fake: FakeServer) -> None:
    """Run `fake` in the foreground until Ctrl-C (for the modules' command lines)."""
    import time

    with fake:
        print(f"{type(fake).__name__} listening on {fake.base_url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
