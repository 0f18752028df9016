"""An offline emulator of the OpenAI Images API (gpt-image-2), faithful to its wire protocol.

Use it in-process through ``EmulatorTransport`` (an httpx transport) or over HTTP through
``make_wsgi_app`` / ``make_server``. Both run the same ``Emulator.handle``.
"""

from .faults import FAULT_HEADER, FAULT_KEY_HEADER, FAULT_NAMES
from .handler import Emulator, EmulatorResponse, ReadTimeoutExceeded, StreamCut
from .transport import EmulatorTransport
from .wsgi import make_server, make_wsgi_app

__all__ = [
    "FAULT_HEADER",
    "FAULT_KEY_HEADER",
    "FAULT_NAMES",
    "Emulator",
    "EmulatorResponse",
    "EmulatorTransport",
    "ReadTimeoutExceeded",
    "StreamCut",
    "make_server",
    "make_wsgi_app",
]
