"""How `make bench` counts a page's bytes over the wire (studio/page_weight.py)."""

from __future__ import annotations

import gzip

from studio.page_weight import PageWeight, Transfer, _sent_size, rows


def test_text_the_server_sent_plain_counts_gzipped():
    css = b".a { color: red; }\n" * 500
    assert _sent_size(css, "text/css", None, len(css)) == len(gzip.compress(css, compresslevel=6)) < len(css) / 10


def test_a_response_the_server_compressed_counts_as_sent():
    assert _sent_size(b"x" * 5000, "text/html", "br", 321) == 321


def test_pictures_and_fonts_count_as_they_are():
    assert _sent_size(b"\x89PNG" + bytes(2000), "image/png", None, 2004) == 2004
    assert _sent_size(bytes(3000), "font/woff2", None, 3000) == 3000


def test_rows_give_compressed_and_raw_totals_and_third_party_requests():
    weight = PageWeight(label="studio page", third_party=0, transfers=[
        Transfer(url="/", content_type="text/html", raw=20480, sent=5120),
        Transfer(url="/static/a.js", content_type="text/javascript", raw=10240, sent=3072)])
    assert rows([weight]) == [("first load of the studio page, logged in (browser): compressed / raw, requests",
                               "8.0 / 30.0 KB, 2 requests, 0 third-party")]
    assert rows("skipped: no chromium") == [("first load of the studio page (browser)", "skipped: no chromium")]
