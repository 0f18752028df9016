"""The emulator over real HTTP: a WSGI app and a threaded stdlib server for it."""

from __future__ import annotations

import socketserver
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
from wsgiref.simple_server import make_server as make_wsgiref_server

from .handler import Emulator, StreamCut

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def make_wsgi_app(emulator: Emulator | None = None) -> WSGIApp:
    """A WSGI application answering the Images API at ``/v1/images/...`` and ``/images/...``."""
    emulator = emulator if emulator is not None else Emulator()

    def emulator_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        answer = emulator.handle(environ["REQUEST_METHOD"], path, _request_headers(environ),
                                 _request_body(environ))
        start_response(f"{answer.status} {HTTPStatus(answer.status).phrase}",
                       list(answer.headers.items()))
        return _until_cut(answer.body)

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


def _until_cut(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Stop quietly where the emulator drops the connection: the client, promised a longer
    body by ``content-length``, sees the connection close early."""
    try:
        yield from chunks
    except StreamCut:
        return
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """One thread per connection, so a slow or streaming call never blocks the others."""

    daemon_threads = True
    allow_reuse_address = True


class QuietRequestHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def make_server(emulator: Emulator | None = None, *, host: str = "127.0.0.1", port: int = 8765,
                quiet: bool = False) -> ThreadingWSGIServer:
    """A bound, threaded server for the emulator (``port=0`` picks a free port); call
    ``serve_forever()`` on it and ``shutdown()`` from another thread to stop."""
    handler = QuietRequestHandler if quiet else WSGIRequestHandler
    return make_wsgiref_server(host, port, make_wsgi_app(emulator),
                               server_class=ThreadingWSGIServer, handler_class=handler)
