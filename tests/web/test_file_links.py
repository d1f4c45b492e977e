"""Every file link delivers its file when clicked from the boosted page: the links are
found by crawling the app as the marketing manager (not listed by hand), and each one,
asked for the way htmx asks for a boosted link, answers with HX-Redirect to itself (the
browser then loads it and shows or saves the file), never with the file's bytes to swap
into the page; asked for plainly, a spreadsheet or an attachment answers with the file."""

from __future__ import annotations

import html
import re
from collections import Counter, deque
from urllib.parse import urlsplit

from mktapp.core.htmx import FILE_TYPES

HREF = re.compile(r'href="([^"#]+)"')
FILE_PATH = re.compile(r"\.(pdf|xlsx)$|^/attachments/\d+$")
SKIP = ("/static/", "/auth/", "/healthz")
PAGES_PER_SHAPE = 1  # /sales/customers/17 and /sales/customers/18 are one shape
MAX_PAGES = 300


def _shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def crawl(client) -> tuple[set[str], int]:
    """(the file links found, the number of pages read), breadth first from the workbench."""
    seen_pages: set[str] = set()
    shapes: Counter = Counter()
    files: set[str] = set()
    queue = deque(["/"])
    while queue and len(seen_pages) < MAX_PAGES:
        url = queue.popleft()
        if url in seen_pages:
            continue
        seen_pages.add(url)
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        for href in HREF.findall(response.get_data(as_text=True)):
            href = html.unescape(href)
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            if parts.path.startswith(SKIP):
                continue
            if FILE_PATH.search(parts.path):
                if _shape(parts.path) not in {_shape(urlsplit(f).path) for f in files}:
                    files.add(href)  # one link of each kind: /expense/claims/N.pdf ...
                continue
            if parts.query:  # filters and pages of a list already read
                continue
            shape = _shape(parts.path)
            if href not in seen_pages and shapes[shape] < PAGES_PER_SHAPE:
                shapes[shape] += 1
                queue.append(href)
    return files, len(seen_pages)


def test_every_file_link_found_by_crawling_navigates_instead_of_swapping_bytes(login):
    client = login("manager")
    files, pages = crawl(client)
    kinds = {_shape(urlsplit(f).path) for f in files}
    # Not a vacuous crawl: PDFs and spreadsheets of several chapters were found.
    assert pages > 40 and len(kinds) >= 8, sorted(kinds)
    assert any(k.endswith(".pdf") for k in kinds) and any(k.endswith(".xlsx") for k in kinds)
    problems = []
    for link in sorted(files):
        boosted = client.get(link, headers={"HX-Request": "true", "HX-Boosted": "true"})
        if boosted.status_code != 204 or boosted.headers.get("HX-Redirect") != link:
            problems.append(f"{link}: boosted click got {boosted.status_code} {boosted.mimetype}")
        if boosted.data:
            problems.append(f"{link}: {len(boosted.data)} bytes would be swapped into the page")
        if urlsplit(link).path.endswith(".pdf"):
            continue  # each PDF's own tests read it (pdftotext); making them all again is slow
        plain = client.get(link)
        disposition = plain.headers.get("Content-Disposition", "")
        if plain.status_code != 200 or not (
            plain.mimetype in FILE_TYPES or disposition.startswith(("attachment", "inline"))
        ):
            problems.append(f"{link}: plain request got {plain.status_code} {plain.mimetype}")
    assert not problems, "\n".join(problems)


def test_an_htmx_fragment_request_is_left_alone(login):
    client = login("manager")
    response = client.get("/org/users", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "HX-Redirect" not in response.headers
