"""The PDF machinery: CJK type embedded, and a fetcher that loads nothing but data: and static files."""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess

import pytest

from mktapp.core import pdf

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext, pdffonts) not installed"
)

# A 1x1 transparent PNG.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
    )
).decode()


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


@pytest.fixture
def no_network(monkeypatch):
    """Fail (and record) any attempt to resolve a name or open a socket."""
    attempts: list[object] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access attempted during a PDF render")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


@pytest.fixture
def files_opened(monkeypatch):
    """Record every path urllib's file: handler is asked to open."""
    import urllib.request

    opened: list[str] = []
    original = urllib.request.FileHandler.file_open

    def spy(self, req):
        opened.append(req.full_url)
        return original(self, req)

    monkeypatch.setattr(urllib.request.FileHandler, "file_open", spy)
    return opened


HOSTILE = """<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">
<style>
@import url("https://example.com/evil.css");
@font-face { font-family: Evil; src: url("http://example.com/evil.woff2"); }
body { background: url("file:///etc/passwd"); font-family: Evil, "Noto Sans CJK SC"; }
.a { background-image: url("http://169.254.169.254/latest/meta-data/"); }
.b { background-image: url("/static/%2e%2e/%2e%2e/etc/passwd"); }
</style>
<link rel="stylesheet" href="http://example.com/evil2.css">
</head><body>
<p class="a">报告正文</p><p class="b">第二段</p>
<img src="file:///etc/passwd" alt="">
<img src="http://example.com/tracker.png" alt="">
<img src="https://example.com/tracker.png" alt="">
<img src="ftp://example.com/x.png" alt="">
<img src="/static/../../../../etc/passwd" alt="">
<object data="file:///etc/passwd"></object>
<embed src="file:///etc/hosts">
<iframe src="file:///etc/passwd"></iframe>
</body></html>"""


@needs_poppler
def test_report_naming_local_files_and_web_urls_renders_without_reading_them(
    app_ctx, tmp_path, no_network, files_opened
):
    fetcher = pdf.make_fetcher()
    data = pdf.html_to_pdf(HOSTILE, fetcher)
    assert data.startswith(b"%PDF")
    text = pdf_text(data, tmp_path)
    assert "报告正文" in text
    assert "root:" not in text
    assert no_network == []
    assert files_opened == []
    assert fetcher.served == []
    refused = " ".join(fetcher.refused)
    for url in (
        "file:///etc/passwd",
        "http://example.com/tracker.png",
        "https://example.com/tracker.png",
        "https://example.com/evil.css",
        "http://example.com/evil.woff2",
        "http://169.254.169.254/latest/meta-data/",
        "ftp://example.com/x.png",
    ):
        assert url in refused, url


def test_fetcher_refuses_every_scheme_but_data_and_static(app_ctx, no_network):
    fetcher = pdf.make_fetcher()
    for url in (
        "file:///etc/passwd",
        "http://example.com/",
        "https://example.com/",
        "http://127.0.0.1:5000/static/css/app.css",
        "ftp://example.com/x",
        "gopher://example.com/",
        pdf.INTERNAL_BASE + "org/users",
        pdf.INTERNAL_BASE + "static/%2e%2e/mktapp/config.py",
        pdf.INTERNAL_BASE + "static/no-such-file.css",
    ):
        with pytest.raises(pdf.ResourceRefused):
            fetcher.fetch(url)
    assert no_network == []


def test_fetcher_serves_data_uris_and_the_apps_static_files(app_ctx):
    fetcher = pdf.make_fetcher()
    response = fetcher.fetch(f"data:image/png;base64,{PNG}")
    assert response.read().startswith(b"\x89PNG")
    response = fetcher.fetch(pdf.INTERNAL_BASE + "static/favicon.svg")
    assert response.content_type == "image/svg+xml"
    assert b"<svg" in response.read()


@needs_poppler
def test_report_loads_images_from_data_uris_and_static_files(app_ctx, no_network):
    fetcher = pdf.make_fetcher()
    html = (
        '<html><body><p>图</p><img src="data:image/png;base64,' + PNG + '" alt="">'
        '<img src="/static/favicon.svg" alt=""></body></html>'
    )
    assert pdf.html_to_pdf(html, fetcher).startswith(b"%PDF")
    assert len(fetcher.served) == 2 and fetcher.refused == []


def test_css_strings_are_escaped_for_the_style_element():
    assert pdf.css_string('a"b\\c<') == '"a\\"b\\\\c\\3c "'


def test_footer_css_uses_page_counters(app_ctx):
    css = pdf.page_footer_css()
    assert "counter(page)" in css and "counter(pages)" in css
