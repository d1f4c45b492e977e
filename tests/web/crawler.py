"""Crawl the app as a signed-in user, breadth first from the workbench: the pages and the
file links a person can reach by clicking (shared by test_file_links and
test_long_selects; not a test module itself).

Links that go off the app, to static files, to the sign-in pages or to the health check
are left alone. One page of each shape is read (/sales/customers/17 and
/sales/customers/18 are one shape), up to MAX_PAGES. A link with a query string is a
filter or a page of a list already read and is skipped, unless `follow(parts)` says
otherwise (then its shape includes the names of its parameters). File links (PDFs,
spreadsheets, attachments) are collected, one of each shape, not read.
"""

from __future__ import annotations

import html
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

HREF = re.compile(r'href="([^"#]+)"')
FILE_PATH = re.compile(r"\.(pdf|xlsx)$|^/attachments/\d+$")
SKIP = ("/static/", "/auth/", "/healthz")
PAGES_PER_SHAPE = 1
MAX_PAGES = 300


def shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


@dataclass
class Crawl:
    files: set[str] = field(default_factory=set)  # one file link of each shape
    read: int = 0  # the pages asked for (whatever they answered)
    failed: list[str] = field(default_factory=list)  # "url: status" of each 5xx answer


def crawl(
    client,
    on_page: Callable[[str, str], None] | None = None,
    start: Iterable[str] = ("/",),
    follow: Callable | None = None,
) -> Crawl:
    """Read the pages reachable from `start`; `on_page(url, html)` sees each HTML page that
    answered 200. `follow(parts)`: whether to read a link with a query string too (parts:
    its urlsplit)."""
    seen_pages: set[str] = set()
    shapes: Counter = Counter()
    result = Crawl()
    file_shapes: set[str] = set()
    queue = deque(start)
    for url in start:
        shapes[_shape_of(urlsplit(url))] += 1
    while queue and len(seen_pages) < MAX_PAGES:
        url = queue.popleft()
        if url in seen_pages:
            continue
        seen_pages.add(url)
        response = client.get(url)
        if response.status_code >= 500:
            result.failed.append(f"{url}: {response.status_code}")
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        text = response.get_data(as_text=True)
        if on_page is not None:
            on_page(url, text)
        for href in HREF.findall(text):
            href = html.unescape(href)
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            if parts.path.startswith(SKIP):
                continue
            if FILE_PATH.search(parts.path):
                if shape(parts.path) not in file_shapes:
                    file_shapes.add(shape(parts.path))
                    result.files.add(href)  # one link of each kind: /expense/claims/N.pdf ...
                continue
            if parts.query and not (follow is not None and follow(parts)):
                continue  # filters and pages of a list already read
            kind = _shape_of(parts)
            if href not in seen_pages and shapes[kind] < PAGES_PER_SHAPE:
                shapes[kind] += 1
                queue.append(href)
    result.read = len(seen_pages)
    return result


def _shape_of(parts) -> str:
    if not parts.query:
        return shape(parts.path)
    names = sorted({name for name, _value in parse_qsl(parts.query, keep_blank_values=True)})
    return shape(parts.path) + "?" + "&".join(names)
