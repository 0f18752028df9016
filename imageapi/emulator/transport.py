"""``EmulatorTransport``: the emulator inside an ``httpx.Client``, no sockets involved."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import httpx

from .handler import Emulator, ReadTimeoutExceeded, StreamCut


class EmulatorTransport(httpx.BaseTransport):
    """Answers an httpx client's requests with ``emulator``. Event streams really stream:
    the body is produced while the client reads it, partial images first."""

    def __init__(self, emulator: Emulator | None = None) -> None:
        self.emulator = emulator if emulator is not None else Emulator()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        read_timeout = (request.extensions.get("timeout") or {}).get("read")
        try:
            answer = self.emulator.handle(request.method, request.url.path, request.headers, body,
                                          read_timeout=read_timeout)
        except ReadTimeoutExceeded as exc:
            raise httpx.ReadTimeout(str(exc), request=request) from exc
        return httpx.Response(answer.status, headers=answer.headers,
                              stream=_EmulatedByteStream(answer.body, request),
                              extensions={"http_version": b"HTTP/1.1"})


class _EmulatedByteStream(httpx.SyncByteStream):
    """Turns the emulator's simulated network trouble into the errors httpx raises for it."""

    def __init__(self, chunks: Iterable[bytes], request: httpx.Request) -> None:
        self._chunks = chunks
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._chunks
        except StreamCut as exc:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body",
                request=self._request,
            ) from exc
        except ReadTimeoutExceeded as exc:
            raise httpx.ReadTimeout(str(exc), request=self._request) from exc

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
