"""PDF reports: render_pdf(template, **ctx) -> bytes, with WeasyPrint and a locked-down fetcher.

A report template extends `reports/base.html` (A4, CJK fonts, running header,
"page X of Y" footer). WeasyPrint asks its URL fetcher for every image,
stylesheet and font a document names. Ours answers only two kinds of URL:

- `data:` URIs, decoded in memory;
- the app's own static files (`/static/...` relative to the document, which
  resolves against an internal base URL), read from the static folder on disk.

Everything else -- http, https, file, ftp, any other host -- is refused by
raising, before anything is opened, so a report can never be made to read a
local file or reach the network (the SSRF class fixed in WeasyPrint 70).
WeasyPrint logs the refusal and renders the document without the resource.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from flask import current_app, render_template
from flask_babel import gettext as _

if TYPE_CHECKING:
    from mktapp.core.pdf_fetch import SafeURLFetcher  # noqa: PLC0415  (imports WeasyPrint: loads with the first PDF)

log = logging.getLogger(__name__)

# Relative URLs in a report resolve against this origin. It is never contacted:
# the fetcher maps its /static/ paths to files and refuses everything else.
# (.invalid is reserved by RFC 2606 and never resolves.)
INTERNAL_BASE = "http://mktapp-report.invalid/"
_INTERNAL = urlsplit(INTERNAL_BASE)


class ResourceRefused(ValueError):
    """A report named a resource the fetcher will not load."""


def __getattr__(name: str):
    # WeasyPrint takes half a second to import: it loads with the first PDF, not the app.
    if name == "SafeURLFetcher":
        from mktapp.core.pdf_fetch import SafeURLFetcher  # noqa: PLC0415  (imports WeasyPrint: loads with the first PDF)

        return SafeURLFetcher
    raise AttributeError(name)


def make_fetcher() -> SafeURLFetcher:
    from mktapp.core.pdf_fetch import SafeURLFetcher  # noqa: PLC0415  (imports WeasyPrint: loads with the first PDF)

    app = current_app
    return SafeURLFetcher(app.static_folder, app.static_url_path or "/static")


def html_to_pdf(html: str, fetcher: SafeURLFetcher | None = None) -> bytes:
    """Turn report HTML into PDF bytes through the safe fetcher."""
    from weasyprint import HTML  # noqa: PLC0415  (heavy: loads with the first PDF, not with the app)
    from weasyprint.text.fonts import FontConfiguration  # noqa: PLC0415  (with the first PDF)

    fetcher = fetcher or make_fetcher()
    document = HTML(string=html, base_url=INTERNAL_BASE, url_fetcher=fetcher)
    # Fonts are subset to the glyphs used (harfbuzz-subset when installed),
    # so a CJK report stays small.
    return document.write_pdf(font_config=FontConfiguration(), uncompressed_pdf=False)


def css_string(text: str) -> str:
    """Quote text as a CSS string (for generated content in @page boxes)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    escaped = escaped.replace("<", "\\3c ")  # never close the <style> element
    return f'"{escaped}"'


def page_footer_css() -> str:
    """The footer's CSS `content`: "第 X 页 / 共 Y 页" or "Page X of Y", in the current locale."""
    label = _("Page {page} of {pages}")
    out = []
    for piece in re.split(r"(\{page\}|\{pages\})", label):
        if piece == "{page}":
            out.append("counter(page)")
        elif piece == "{pages}":
            out.append("counter(pages)")
        elif piece:
            out.append(css_string(piece))
    return " ".join(out)


def render_pdf(template: str, **ctx) -> bytes:
    """Render a Jinja template (one that extends reports/base.html) to PDF bytes."""
    ctx.setdefault("page_footer_css", page_footer_css())
    return html_to_pdf(render_template(template, **ctx))


def pdf_response(data: bytes, filename: str, fallback: str = "report.pdf"):
    """A PDF answer shown in the browser; `filename` may be Chinese, `fallback` is ASCII."""
    response = current_app.response_class(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
