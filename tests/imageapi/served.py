"""The emulator behind a real loopback HTTP server, for tests that speak HTTP to it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from imageapi.emulator import Emulator, make_server


@contextmanager
def serving(emulator: Emulator) -> Iterator[str]:
    """Serve ``emulator`` on a free loopback port; yields its base URL (``…/v1``)."""
    server = make_server(emulator, port=0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
