"""Every file link delivers its file when clicked from the boosted page: the links are
found by crawling the app as the marketing manager (not listed by hand), and each one,
asked for the way htmx asks for a boosted link, answers with HX-Redirect to itself (the
browser then loads it and shows or saves the file), never with the file's bytes to swap
into the page; asked for plainly, a spreadsheet or an attachment answers with the file."""

from __future__ import annotations

from urllib.parse import urlsplit

from mktapp.core.htmx import FILE_TYPES
from tests.web.crawler import crawl, shape


def test_every_file_link_found_by_crawling_navigates_instead_of_swapping_bytes(login):
    client = login("manager")
    found = crawl(client)
    files, pages = found.files, found.read
    kinds = {shape(urlsplit(f).path) for f in files}
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
