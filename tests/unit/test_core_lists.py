"""The list kit (core/lists.py): one declaration gives a list's query from the URL, its
page with totals, its sort headers and its export, so a column is declared once."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from flask import render_template_string
from openpyxl import load_workbook
from sqlalchemy import select

from mktapp.core.lists import Column, Filter, ListSpec, contains, flag, integer, iso_date, one_of
from mktapp.models import Contract

SPEC = ListSpec(
    "sample",
    [
        Column("number", "No.", lambda c: c.number, sort=Contract.number),
        Column("title", "Title", lambda c: c.title),
        Column("tax", "Tax", lambda c: c.tax_amount, screen=False),
        Column("total", "Total", lambda c: c.total, sort=Contract.total, cls="num"),
        Column("signed", "Signed", lambda c: c.signed_on, sort=Contract.signed_on, nulls_last=True),
        Column("progress", "Progress", export=False),
    ],
    filters=[
        Filter("status", one_of("draft", "signed")),
        Filter("owner", integer, default=None),
        Filter("since", iso_date, arg="from", default=None),
        Filter("archived", flag, default=False),
        Filter("scope", one_of("mine", "all"), default="mine"),
    ],
    default_sort="updated",
    default_dir="desc",
    tie=Contract.id,
    sorts={"updated": Contract.updated_at},
)
Query = SPEC.Query


def test_the_url_is_read_and_what_it_does_not_understand_is_ignored():
    q = Query.from_args(
        {
            "q": "  钢  ",
            "status": "bogus",
            "owner": "x",
            "from": "2026-02-30",
            "sort": "drop",
            "dir": "sideways",
            "page": "-3",
            "archived": "1",
            "scope": "all",
        }
    )
    assert (q.q, q.status, q.owner, q.since, q.sort, q.dir, q.page) == (
        "钢",
        "",
        None,
        None,
        "updated",
        "desc",
        1,
    )
    assert q.archived is True and q.scope == "all" and q.filtered
    q = Query.from_args({"status": "signed", "owner": "7", "from": "2026-03-01", "page": "9"})
    assert (q.status, q.owner, q.since, q.page) == ("signed", 7, date(2026, 3, 1), 9)
    assert Query.from_args({"page": "10000000"}).page == 100_000
    assert not Query.from_args({}).filtered


def test_links_carry_only_what_differs_from_the_defaults():
    q = Query.from_args({"status": "draft", "from": "2026-03-01", "page": "3"})
    assert q.args() == {"status": "draft", "from": "2026-03-01", "page": 3}
    assert q.args(page=None) == {"status": "draft", "from": "2026-03-01"}
    assert q.url("/c/", page=1) == "/c/?status=draft&from=2026-03-01"
    # A sort header: ascending first, the other way round on the current column, page 1.
    # (This list's default direction is descending, so "asc" is written out.)
    assert q.sort_url("/c/", "total") == "/c/?status=draft&from=2026-03-01&sort=total&dir=asc"
    by_total = Query.from_args({"sort": "total", "dir": "asc"})
    assert by_total.sort_url("/c/", "total") == "/c/?sort=total"
    # A view may set a filter's default: then the URL says nothing about it.
    everyone = Query.from_args({}, default_scope="all")
    assert everyone.scope == "all" and everyone.args() == {} and not everyone.filtered
    assert Query(scope="all") == Query.from_args({"scope": "all"})


def test_a_page_counts_and_sums_every_match_and_clamps_to_the_last_page(app_ctx, demo):
    stmt = select(Contract)
    everything = SPEC.page(stmt, Query(), 1000, totals={"amount": "total"})
    assert everything.total > 3 and len(everything.rows) == everything.total
    assert Decimal(str(everything.totals["amount"])) == sum(c.total for c in everything.rows)
    late = SPEC.page(stmt, Query(page=999, sort="total", dir="asc"), 2)
    assert late.page == late.pages and late.rows
    totals = [c.total for c in SPEC.page(stmt, Query(sort="total", dir="asc"), 1000).rows]
    assert totals == sorted(totals)
    found = SPEC.page(stmt.where(contains("100%_", Contract.title)), Query(), 10)
    assert found.total == 0  # % and _ are letters, not wildcards


def test_the_export_has_the_export_columns_in_the_declared_order(app, demo):
    with app.test_request_context():
        rows = SPEC.export_rows(select(Contract), Query(sort="number", dir="asc"))
        response = SPEC.xlsx(rows, "合同")
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("No.", "Title", "Tax", "Total", "Signed")
    assert [r[0] for r in values[1:]] == sorted(c.number for c in rows)


def test_the_table_head_links_the_sortable_columns_and_marks_the_current_one(app):
    with app.test_request_context():
        html = render_template_string(
            '{% from "_macros/lists.html" import table_head %}'
            '{{ table_head(query, "/c/", "rows") }}',
            query=Query.from_args({"sort": "total", "dir": "asc"}),
        )
    assert html.count("<th scope") == 5  # the export-only column is not on the screen
    assert '<th scope="col">Title</th>' in html and '<th scope="col">Progress</th>' in html
    assert 'class="num" aria-sort="ascending"' in html
    assert 'href="/c/?sort=total"' in html and 'hx-target="#rows"' in html
