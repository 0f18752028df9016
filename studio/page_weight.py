"""Page weight for `make bench`: what a first visit to a page costs over the wire, in a real browser.

Debian's chromium (driven by Playwright) opens the page on a live server of this project, logged in,
with an empty cache, and records every response. A response the server compressed counts as sent; one
it did not counts as it would gzipped (text only: CSS, JavaScript, HTML, SVG, JSON), which is what any
compressing server or proxy in front of Studio sends. Images and fonts count as they are. Bodies only,
not headers. Requests to any other host are counted as third-party requests.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.test import Client
from django.test.testcases import LiveServerThread

CHROMIUM = "/usr/bin/chromium"
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml", "application/xml")
PAGES = (("studio page", "/"), ("gallery page", "/gallery/"))


@dataclass(frozen=True)
class Transfer:
    url: str
    content_type: str
    raw: int          # the body's bytes
    sent: int         # the bytes over the wire: as compressed by the server, or gzipped if text and not


@dataclass(frozen=True)
class PageWeight:
    label: str
    transfers: list[Transfer]
    third_party: int

    @property
    def sent(self) -> int:
        return sum(transfer.sent for transfer in self.transfers)

    @property
    def raw(self) -> int:
        return sum(transfer.raw for transfer in self.transfers)


def _sent_size(body: bytes, content_type: str, encoding: str | None, encoded_size: int) -> int:
    if encoding and encoding != "identity":
        return encoded_size
    if content_type.startswith(TEXT_TYPES):
        return len(gzip.compress(body, compresslevel=6))
    return len(body)


def measure(*, pages=PAGES) -> list[PageWeight] | str:
    """The weight of each page's first load, or why it could not be measured."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"skipped: Debian's chromium is not at {CHROMIUM}"
    from playwright.sync_api import sync_playwright

    user = get_user_model().objects.create_user("bench-weight")
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value

    server = LiveServerThread("localhost", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base = f"http://localhost:{server.port}"
    results = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
            try:
                for label, path in pages:
                    results.append(_first_load(browser, base, session, label, path))
            finally:
                browser.close()
    finally:
        server.terminate()
    return results


def _first_load(browser, base: str, session: str, label: str, path: str) -> PageWeight:
    context = browser.new_context(base_url=base, viewport={"width": 1440, "height": 900})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}])
    page = context.new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(path, wait_until="networkidle")
    host = urlsplit(base).netloc
    transfers, third_party = [], 0
    for response in responses:
        if urlsplit(response.url).netloc != host:
            third_party += 1
            continue
        if 300 <= response.status < 400:  # a redirect has no body to count
            continue
        body = response.body()
        headers = response.headers
        content_type = headers.get("content-type", "").split(";")[0].strip()
        encoded = response.request.sizes()["responseBodySize"]
        transfers.append(Transfer(url=response.url[len(base):], content_type=content_type, raw=len(body),
                                  sent=_sent_size(body, content_type, headers.get("content-encoding"), encoded)))
    context.close()
    return PageWeight(label=label, transfers=transfers, third_party=third_party)


def rows(results: list[PageWeight] | str) -> list[tuple[str, str]]:
    if isinstance(results, str):
        return [("first load of the studio page (browser)", results)]
    return [(f"first load of the {weight.label}, logged in (browser): compressed / raw, requests",
             f"{weight.sent / 1024:.1f} / {weight.raw / 1024:.1f} KB, {len(weight.transfers)} requests, "
             f"{weight.third_party} third-party") for weight in results]


def details(results: list[PageWeight] | str) -> list[str]:
    """One Markdown table per page: each response, largest first."""
    if isinstance(results, str):
        return []
    lines = []
    for weight in results:
        lines += [f"\n{weight.label.capitalize()}, first load:\n",
                  "| response | type | raw | compressed |", "|---|---|---|---|"]
        for transfer in sorted(weight.transfers, key=lambda t: -t.sent):
            lines.append(f"| `{transfer.url}` | {transfer.content_type} | {transfer.raw / 1024:.1f} KB | "
                         f"{transfer.sent / 1024:.1f} KB |")
    return lines
