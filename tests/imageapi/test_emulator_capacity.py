"""The emulator over HTTP holds many slow calls open at once (issue 10), and one shared
``ImagesClient`` really keeps them all in flight (its pool is not httpx's default 100)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from imageapi.client import ImageResult, ImagesClient
from imageapi.emulator import Emulator, EmulatorTransport, make_server
from imageapi.emulator.pictures import ENCODED, EncodedCache
from imageapi.emulator.wsgi import IN_FLIGHT_PATH, LISTEN_BACKLOG, ThreadingWSGIServer

# What one worker must hold (issue 10): ten times httpx's default pool of 100, two hundred
# times the stdlib's listen backlog of 5.
CALLS = 1000


@contextmanager
def serving(emulator: Emulator) -> Iterator[ThreadingWSGIServer]:
    server = make_server(emulator, port=0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_the_server_listens_with_a_deep_backlog() -> None:
    with serving(Emulator()) as server:
        assert server.request_queue_size == LISTEN_BACKLOG >= 1000


def test_a_thousand_slow_calls_are_all_open_at_once_and_all_served() -> None:
    # Each call's render time is a wait on a barrier that opens only when all CALLS calls are
    # waiting inside the emulator together: if the server or the client's pool held fewer at
    # once, the barrier would time out and those calls would fail.
    everyone_waiting = threading.Barrier(CALLS)
    emulator = Emulator(latency=1.0, sleep=lambda _: everyone_waiting.wait(timeout=60))
    results: list[ImageResult | BaseException] = []
    lock = threading.Lock()
    with serving(emulator) as server:
        client = ImagesClient(api_key="sk-test-capacity", base_url=f"http://127.0.0.1:{server.server_port}/v1",
                              timeout=90, max_retries=0)

        def call() -> None:
            try:
                outcome: ImageResult | BaseException = client.generate(
                    prompt="A crowd of kites", size="1024x640", quality="low", output_format="jpeg")
            except BaseException as error:  # reported by the assertion below
                outcome = error
            with lock:
                results.append(outcome)

        threads = [threading.Thread(target=call) for _ in range(CALLS)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        finally:
            client.close()
        deadline = time.monotonic() + 30  # each connection closes just after its last byte was read
        while server.in_flight.now and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.in_flight.peak == CALLS
        assert server.in_flight.served == CALLS and server.in_flight.now == 0

    failures = [result for result in results if not isinstance(result, ImageResult)]
    assert failures == [] and len(results) == CALLS
    assert all(result.images[0].format == "jpeg" for result in results if isinstance(result, ImageResult))


def test_identical_generations_are_drawn_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from imageapi.emulator import pictures

    cache = EncodedCache()
    monkeypatch.setattr(pictures, "ENCODED", cache)
    drawn: list[str] = []
    real = pictures.generate_picture

    def counting(prompt: str, **options: object) -> object:
        drawn.append(prompt)
        return real(prompt, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(pictures, "generate_picture", counting)
    client = ImagesClient(api_key="sk-test", transport=EmulatorTransport(Emulator()))
    try:
        first = client.generate(prompt="A lighthouse", size="1024x640", quality="low")
        again = client.generate(prompt="A lighthouse", size="1024x640", quality="low")
        other = client.generate(prompt="A harbour", size="1024x640", quality="low")
        streamed = list(client.generate_stream(prompt="A lighthouse", size="1024x640", quality="low",
                                               partial_images=2))
        streamed_again = list(client.generate_stream(prompt="A lighthouse", size="1024x640", quality="low",
                                                     partial_images=2))
    finally:
        client.close()
    assert first.images[0].data == again.images[0].data != other.images[0].data
    assert streamed[-1].images[0].data == first.images[0].data  # the same picture, streamed or not
    assert [p.data for p in streamed[:-1]] == [p.data for p in streamed_again[:-1]]
    assert drawn == ["A lighthouse", "A harbour", "A lighthouse"]  # the partials needed it drawn once more
    assert cache.hits >= 3


def test_the_cache_is_bounded_by_size_and_forgets_the_least_recently_used() -> None:
    cache = EncodedCache(max_bytes=10)
    assert cache.get("a", lambda: ("aaaa",)) == ("aaaa",)
    cache.get("b", lambda: ("bbbb",))
    cache.get("a", lambda: ("never",))  # a hit: "a" is now the most recent
    cache.get("c", lambda: ("cccc",))  # 12 > 10: evicts "b"
    assert cache.get("b", lambda: ("new",)) == ("new",)
    assert cache.get("x", lambda: ("x" * 11,)) == ("x" * 11,)  # too big to keep, still answered
    assert cache.get("x", lambda: ("again",)) == ("again",)


def test_the_process_wide_cache_has_a_sane_budget() -> None:
    assert 0 < ENCODED.max_bytes <= 1024**3


def test_a_burst_of_identical_calls_draws_the_picture_once() -> None:
    cache = EncodedCache()
    made: list[int] = []
    start = threading.Barrier(20)
    got: list[tuple[str, ...]] = []

    def make() -> tuple[str, ...]:
        made.append(1)
        time.sleep(0.05)  # drawing takes a while: the others arrive meanwhile
        return ("picture",)

    def call() -> None:
        start.wait()
        got.append(cache.get("key", make))

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(made) == 1 and got == [("picture",)] * 20


def test_when_drawing_fails_the_next_caller_draws_it() -> None:
    cache = EncodedCache()

    def broken() -> tuple[str, ...]:
        raise OSError("encoder failed")

    with pytest.raises(OSError, match="encoder failed"):
        cache.get("key", broken)
    assert cache.get("key", lambda: ("drawn",)) == ("drawn",)


def test_the_upstream_reports_its_calls_in_flight_over_http() -> None:
    with serving(Emulator()) as server:
        base = f"http://127.0.0.1:{server.server_port}"
        with httpx.Client(base_url=base, trust_env=False, timeout=10,
                          headers={"Authorization": "Bearer sk-test"}) as http:
            assert http.post("/v1/images/generations", json={"prompt": "A kite", "size": "1024x640",
                                                              "quality": "low"}).status_code == 200
            # The server closes its side just after the client has read the last byte.
            deadline = time.monotonic() + 10
            while (counts := http.get(IN_FLIGHT_PATH).json())["now"] and time.monotonic() < deadline:
                time.sleep(0.01)
            assert counts == {"now": 0, "peak": 1, "served": 1}
