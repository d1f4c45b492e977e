"""Whatever is typed into any form, the app answers with a page, never a 500, and a
refusal (4xx) writes nothing: property-based (hypothesis), over every form a manager
and a sales rep reach by clicking (tests/web/crawler.py).

Values tried: numbers past every column (huge, negative, NaN, Infinity, 1e309), a
megabyte of text, NUL bytes and lone surrogates, impossible dates, and ordinary text.
The examples are derandomized: the same run every time (a test never depends on luck).
"""

from __future__ import annotations

import traceback
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mktapp.extensions import db
from tests.html_forms import Form, page_forms
from tests.web.crawler import crawl

HOSTILE = [
    "99999999999999999999",
    "-99999999999999999999",
    "-1",
    "0",
    "NaN",
    "Infinity",
    "-inf",
    "1e309",
    "a\x00b",
    "\ud800",
    "x" * 1_000_000,
    "2026-02-30",
    "0000-00-00",
    "9999-12-31",
    "2026-13-01T25:61",
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "   ",
]
EXAMPLES = 4  # per form
KEPT = ("csrf_token", "_once", "_version", "_seen")  # what the browser sends untouched
LEFT_OUT = ("/auth/", "/locale")  # signing out, the language switch


def value() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30))


def written(app) -> tuple:
    """Rows in every table and the sum of every record's version: what a write moves."""
    with app.app_context():
        counts = []
        for table in db.metadata.sorted_tables:
            if table.name in ("form_submissions", "user_sessions", "login_attempts"):
                continue
            counts.append(db.session.scalar(select(func.count()).select_from(table)))
            if "row_version" in table.c:
                counts.append(db.session.scalar(select(func.sum(table.c.row_version))))
        db.session.remove()
    return tuple(counts)


def body(form: Form, values: dict[str, str]) -> bytes:
    data = [(k, v) for k, v in form.fields.items() if k in KEPT]
    data += list(values.items())
    return urlencode(data, encoding="utf-8", errors="surrogatepass").encode()


@pytest.mark.parametrize("username", ["manager", "sales1"])
def test_any_value_in_any_form_is_answered_without_a_crash(app, login, username):
    client = login(username)
    pages: dict[str, str] = {}
    crawl(client, on_page=lambda url, page: pages.setdefault(url, page))
    forms: dict[str, Form] = {}
    for page in pages.values():
        for form in page_forms(page):
            if form.method == "post" and not any(p in form.action for p in LEFT_OUT):
                forms.setdefault(form.action, form)
    assert len(forms) > 10
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def post_anything(action, data):
        form = forms[action]
        names = [n for n in form.kinds if n not in KEPT]
        values = {name: data.draw(value(), label=name) for name in names}
        before = written(app)
        try:
            response = client.c.post(  # the bytes as sent: a lone surrogate is no str
                action, data=body(form, values), content_type="application/x-www-form-urlencoded"
            )
        except Exception as error:  # noqa: BLE001  (the test client raises what would be a 500)
            where = next(
                (
                    f"{f.filename}:{f.lineno}"
                    for f in reversed(traceback.extract_tb(error.__traceback__))
                    if "/mktapp/" in f.filename
                ),
                "",
            )
            failures.append(f"{action}: {type(error).__name__} at {where} for {values!r:.200}")
            with app.app_context():
                db.session.rollback()
            return
        if response.status_code >= 500:
            failures.append(f"{action}: {response.status_code} for {values!r:.300}")
        elif 400 <= response.status_code < 500 and written(app) != before:
            failures.append(f"{action}: {response.status_code} but something was written")

    for action in sorted(forms):  # every form, each with its own examples
        post_anything(action)
    assert not failures, "\n".join(failures[:20])
