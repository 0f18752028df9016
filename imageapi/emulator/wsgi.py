"""The emulator over real HTTP: a WSGI app and a threaded stdlib server for it."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
from wsgiref.simple_server import make_server as make_wsgiref_server

from .handler import Emulator, StreamCut

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# Issue 10: a worker keeps ~1,000 calls open at once. The stdlib's default listen backlog of
# 5 refuses connections that arrive together; the kernel caps it at net.core.somaxconn.
LISTEN_BACKLOG = 4096
# GET here answers the in-flight counts as JSON (not part of the Images API; not counted).
IN_FLIGHT_PATH = "/_emulator/in-flight"


class InFlight:
    """How many requests are open right now, and the most at once: the upstream's count of
    calls in flight (what the benchmark and the capacity test read)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.served = 0

    def enter(self) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        with self._lock:
            self.now -= 1
            self.served += 1

    def reset_peak(self) -> None:
        with self._lock:
            self.peak = self.now


def make_wsgi_app(emulator: Emulator | None = None, *, in_flight: InFlight | None = None) -> WSGIApp:
    """A WSGI application answering the Images API at ``/v1/images/...`` and ``/images/...``;
    ``in_flight`` counts its open requests (from arrival to the last byte of the answer)."""
    emulator = emulator if emulator is not None else Emulator()
    gauge = in_flight if in_flight is not None else InFlight()

    def emulator_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == IN_FLIGHT_PATH and environ["REQUEST_METHOD"] == "GET":
            body = json.dumps({"now": gauge.now, "peak": gauge.peak, "served": gauge.served}).encode()
            start_response("200 OK", [("content-type", "application/json"), ("content-length", str(len(body)))])
            return [body]
        gauge.enter()
        try:
            path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
            answer = emulator.handle(environ["REQUEST_METHOD"], path, _request_headers(environ),
                                     _request_body(environ))
            start_response(f"{answer.status} {HTTPStatus(answer.status).phrase}",
                           list(answer.headers.items()))
        except BaseException:
            gauge.leave()
            raise
        return _UntilCut(answer.body, on_close=gauge.leave)

    return emulator_app


def _request_headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {key[5:].replace("_", "-").lower(): value
               for key, value in environ.items() if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return headers


def _request_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


class _UntilCut:
    """Stop quietly where the emulator drops the connection: the client, promised a longer
    body by ``content-length``, sees the connection close early. ``on_close`` runs once, when
    the server closes the body (after the last byte, or on a client that went away)."""

    def __init__(self, chunks: Iterable[bytes], *, on_close: Callable[[], None] | None = None) -> None:
        self._chunks = chunks
        self._on_close = on_close

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._chunks
        except StreamCut:
            return

    def close(self) -> None:
        try:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                on_close()


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """One thread per connection, so a slow or streaming call never blocks the others (a
    waiting call's thread sleeps: a thousand of them cost little but their stacks)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG
    in_flight: InFlight


class QuietRequestHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def make_server(emulator: Emulator | None = None, *, host: str = "127.0.0.1", port: int = 8765,
                quiet: bool = False) -> ThreadingWSGIServer:
    """A bound, threaded server for the emulator (``port=0`` picks a free port); call
    ``serve_forever()`` on it and ``shutdown()`` from another thread to stop."""
    handler = QuietRequestHandler if quiet else WSGIRequestHandler
    in_flight = InFlight()
    server = make_wsgiref_server(host, port, make_wsgi_app(emulator, in_flight=in_flight),
                                 server_class=ThreadingWSGIServer, handler_class=handler)
    server.in_flight = in_flight
    return server
