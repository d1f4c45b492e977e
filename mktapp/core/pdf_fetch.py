"""The PDF renderer's URL fetcher (see core/pdf.py): data: URIs and the app's static
files, nothing else. Its own module because it needs WeasyPrint, which loads only when a
PDF is made."""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

from mktapp.core.pdf import _INTERNAL, ResourceRefused

log = logging.getLogger("mktapp.core.pdf")


class SafeURLFetcher(URLFetcher):
    """Loads data: URIs and the app's static files; refuses every other URL."""

    def __init__(self, static_folder: str | Path, static_url_path: str = "/static"):
        super().__init__(allowed_protocols=("data",), allow_redirects=False, timeout=1)
        self.static_folder = Path(static_folder).resolve()
        self.static_prefix = static_url_path.rstrip("/") + "/"
        self.served: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        try:
            response = self._fetch(url)
        except ResourceRefused:
            self.refused.append(url)
            log.warning("PDF resource refused: %.200s", url)
            raise
        self.served.append(url)
        return response

    def _fetch(self, url: str) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            # The parent class only has the data: protocol allowed; urllib's
            # DataHandler decodes it in memory.
            return super().fetch(url, headers=None)
        parts = urlsplit(url)
        if (
            scheme == _INTERNAL.scheme
            and parts.netloc == _INTERNAL.netloc
            and parts.path.startswith(self.static_prefix)
        ):
            return self._static_file(unquote(parts.path[len(self.static_prefix) :]), url)
        raise ResourceRefused(f"refused to load {url[:200]!r} in a PDF")

    def _static_file(self, relative: str, url: str) -> URLFetcherResponse:
        path = (self.static_folder / relative).resolve()
        if not path.is_relative_to(self.static_folder) or not path.is_file():
            raise ResourceRefused(f"no static file for {url[:200]!r}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})
