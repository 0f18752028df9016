"""The emulator's faults over real HTTP, truthful (issue 9): ``stream_cut`` drops the
connection mid-body for plain calls too, and ``NAME:K`` counters are scoped so independent
clients and tests do not use up each other's faults."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from imageapi.client import ImagesClient
from imageapi.emulator import FAULT_KEY_HEADER, Emulator
from imageapi.emulator.faults import Fault, FaultCounter
from imageapi.errors import APIConnectionError, RateLimitError

from .served import serving

API_KEY = "sk-test-faults"
SIZE = "1024x640"


@pytest.fixture
def base_url(emulator: Emulator) -> Iterator[str]:
    with serving(emulator) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, trust_env=False, timeout=10,
                      headers={"Authorization": f"Bearer {API_KEY}"}) as client:
        yield client


def post(http: httpx.Client, prompt: str = "A kite", headers: dict[str, str] | None = None, **params: Any) -> int:
    response = http.post("/images/generations", json={"prompt": prompt, "size": SIZE, "quality": "low", **params},
                         headers=headers or {})
    return response.status_code


# -- stream_cut on a plain call --------------------------------------------------------------

def test_stream_cut_on_a_plain_call_drops_the_connection_mid_body(http: httpx.Client) -> None:
    received = bytearray()
    with pytest.raises(httpx.RemoteProtocolError), http.stream(
        "POST", "/images/generations", headers={"x-emulator-fault": "stream_cut"},
        json={"prompt": "A bridge", "size": SIZE, "quality": "low"},
    ) as response:
        assert response.status_code == 200
        promised = int(response.headers["content-length"])
        for chunk in response.iter_bytes():
            received.extend(chunk)
    assert received.startswith(b'{"created": ') and 0 < len(received) < promised


def test_the_client_treats_a_plain_cut_as_a_connection_error_and_retries(base_url: str,
                                                                        emulator: Emulator) -> None:
    slept: list[float] = []
    client = ImagesClient(api_key=API_KEY, base_url=base_url, timeout=10, sleep=slept.append)
    try:
        with pytest.raises(APIConnectionError) as caught:
            client.generate(prompt="A bridge [[fault:stream_cut]]", size=SIZE, quality="low")
        assert type(caught.value) is APIConnectionError
        assert len(emulator.requests_seen) == 3 and len(slept) == 2
        result = client.generate(prompt="A pier [[fault:stream_cut:1]]", size=SIZE, quality="low")
    finally:
        client.close()
    assert result.images and len(emulator.requests_seen) == 5


# -- NAME:K counters, scoped -----------------------------------------------------------------

def test_a_counted_fault_is_counted_per_prompt(http: httpx.Client) -> None:
    header = {"x-emulator-fault": "rate_limit:1"}
    assert post(http, "A kite", header) == 429
    assert post(http, "A boat", header) == 429  # another request: its own first strike
    assert post(http, "A kite", header) == 200  # the retry of the first passes
    assert post(http, "A boat", header) == 200


def test_a_prompt_marker_is_counted_per_prompt(http: httpx.Client) -> None:
    assert [post(http, "A kite [[fault:server_error:1]]") for _ in range(2)] == [500, 200]
    assert [post(http, "A boat [[fault:server_error:1]]") for _ in range(2)] == [500, 200]


def test_the_fault_key_header_separates_clients_with_the_same_prompt(http: httpx.Client) -> None:
    def status(key: str) -> int:
        return post(http, "A kite", {"x-emulator-fault": "unavailable:1", FAULT_KEY_HEADER: key})

    assert [status("test-a"), status("test-b"), status("test-a"), status("test-b")] == [503, 503, 200, 200]


def test_independent_clients_in_parallel_each_meet_their_own_faults(base_url: str) -> None:
    # Same prompt and spec through one shared server, told apart only by their fault keys.
    statuses: dict[int, list[int]] = {}
    start = threading.Barrier(6)

    def one_client(number: int) -> None:
        headers = {"Authorization": f"Bearer {API_KEY}", FAULT_KEY_HEADER: f"client-{number}"}
        with httpx.Client(base_url=base_url, trust_env=False, timeout=10, headers=headers) as http:
            start.wait()
            statuses[number] = [post(http, "The same prompt [[fault:rate_limit:2]]") for _ in range(3)]

    threads = [threading.Thread(target=one_client, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == {number: [429, 429, 200] for number in range(6)}


def test_the_client_retries_into_the_same_scope(base_url: str, emulator: Emulator) -> None:
    slept: list[float] = []
    client = ImagesClient(api_key=API_KEY, base_url=base_url, timeout=10, sleep=slept.append)
    try:
        assert client.generate(prompt="A kite [[fault:rate_limit:2]]", size=SIZE, quality="low").images
        with pytest.raises(RateLimitError):  # K=3 outlasts two retries
            client.generate(prompt="A boat [[fault:rate_limit:3]]", size=SIZE, quality="low")
    finally:
        client.close()
    assert len(emulator.requests_seen) == 6


def test_a_fault_without_a_count_always_strikes(http: httpx.Client) -> None:
    assert [post(http, "A kite", {"x-emulator-fault": "server_error"}) for _ in range(3)] == [500] * 3


def test_the_counter_forgets_the_least_recently_used_scopes_beyond_its_limit() -> None:
    counter = FaultCounter(limit=2)

    def fault(prompt: str) -> Fault:
        return Fault(spec="rate_limit:1", name="rate_limit", limit=1, scope=("", prompt))

    assert counter.strikes(fault("a")) and counter.strikes(fault("b"))
    assert not counter.strikes(fault("a"))  # "a" is now the most recent
    assert counter.strikes(fault("c"))  # evicts "b"
    assert counter.strikes(fault("b"))  # forgotten: starts again
    assert not counter.strikes(fault("c"))
