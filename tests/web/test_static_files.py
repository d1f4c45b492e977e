"""The stylesheet and scripts are fetched once per version: every address of a static
file carries its content's hash, and the answer to that address may be kept for a year
(a changed file gets a new address). Addresses without a version still work."""

from __future__ import annotations

import re
from pathlib import Path

from flask import url_for

ROOT = Path(__file__).resolve().parents[2]
STATIC_SRC = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def test_every_static_address_on_a_page_carries_the_files_version(login):
    page = login("manager").get("/").get_data(as_text=True)
    addresses = STATIC_SRC.findall(page)
    assert len(addresses) >= 4, addresses  # stylesheet, htmx, the app's script, the icon
    unversioned = [a for a in addresses if not re.search(r"[?&]v=[0-9a-f]{12}$", a)]
    assert not unversioned, unversioned


def test_a_versioned_file_is_kept_for_a_year_and_a_stale_one_is_revalidated(app, client):
    with app.test_request_context():
        current = url_for("static", filename="css/app.css")
    kept = client.get(current)
    assert kept.status_code == 200
    assert kept.cache_control.max_age == 365 * 24 * 3600
    assert kept.cache_control.immutable and kept.cache_control.public

    stale = client.get("/static/css/app.css?v=000000000000")
    assert stale.status_code == 200 and stale.data == kept.data
    assert stale.cache_control.max_age is None and not stale.cache_control.immutable
    plain = client.get("/static/css/app.css")
    assert plain.status_code == 200 and not plain.cache_control.immutable
    assert client.get("/static/nothing-here.js?v=000000000000").status_code == 404


def test_no_template_writes_a_static_address_by_hand():
    """url_for('static', ...) adds the version; an address typed into a template would not."""
    typed = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "templates").rglob("*.html")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"""["'(]/static/""", line)
    ]
    assert not typed, typed
