"""Every page works without htmx: a link opened in a new tab, a browser without
JavaScript, a bookmark. The pages are found by crawling the app (tests/web/crawler.py),
not listed by hand, as the marketing manager, a sales rep and the administrator: every
page the crawl reaches is read without the HX-Request header, and so is every address
the pages ask htmx to fetch (hx-get: a form opened in place, the next part of a
timeline, a list's rows), which is also read the way htmx asks for it. The pages of the
URL map that take no argument are read too (a page nobody links to is still opened by
its address). None may answer with a server error."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from mktapp.core.permissions import can
from tests.web.crawler import FILE_PATH, SKIP, crawl, shape

HX_GET = re.compile(r'hx-get="([^"]+)"')
RECORD_ARG = re.compile(r"[a-z_]+_id")


def opens_a_form_for_a_record(parts) -> bool:
    """/contracts/new?customer_id=5 (a form for a record), not a filter or a page of a list."""
    names = [name for name, _value in parse_qsl(parts.query, keep_blank_values=True)]
    return bool(names) and all(RECORD_ARG.fullmatch(n) for n in names)


def hx_gets(pages: dict[str, str]) -> dict[str, str]:
    """One address of each shape that the pages fetch with hx-get: {address: page}."""
    found: dict[str, str] = {}
    shapes: set[str] = set()
    for url, text in pages.items():
        for raw in HX_GET.findall(text):
            href = html.unescape(raw)
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            if parts.path.startswith(SKIP):
                continue
            kind = shape(parts.path) + "?" + "&".join(sorted(re.findall(r"([\w-]+)=", parts.query)))
            if kind not in shapes:
                shapes.add(kind)
                found[href] = url
    return found


def plain_routes(app, user) -> list[str]:
    """The GET pages of the URL map without arguments that this user may open (not the
    files: PDFs and spreadsheets have tests of their own, test_file_links)."""
    routes = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.rule.startswith(SKIP):
            continue
        if FILE_PATH.search(rule.rule):
            continue
        view = app.view_functions[rule.endpoint]
        needed = getattr(view, "required_permissions", ())
        if getattr(view, "any_permission", False):
            allowed = any(can(user, p) for p in needed)
        else:
            allowed = can(user, *needed)
        if allowed and not getattr(view, "is_public", False):
            routes.append(rule.rule)
    return sorted(routes)


@pytest.mark.parametrize("username", ["manager", "sales1", "admin"])
def test_every_page_and_every_fragment_address_answers_without_htmx(app, login, username):
    from sqlalchemy import select

    from mktapp.extensions import db
    from mktapp.models import User

    client = login(username)
    pages: dict[str, str] = {}
    found = crawl(
        client,
        on_page=lambda url, text: pages.__setitem__(url, text),
        follow=opens_a_form_for_a_record,
    )
    assert found.read > (5 if username == "admin" else 40), found.read  # not a vacuous crawl
    failed = list(found.failed)

    fragments = hx_gets(pages)
    assert len(fragments) > (2 if username == "admin" else 10), sorted(fragments)
    for href, page in sorted(fragments.items()):
        plain = client.get(href)
        if plain.status_code >= 500:
            failed.append(f"{href} (hx-get on {page}) without htmx: {plain.status_code}")
        fragment = client.get(href, htmx=True)
        if fragment.status_code >= 500:
            failed.append(f"{href} (hx-get on {page}) as htmx: {fragment.status_code}")

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        routes = [r for r in plain_routes(app, user) if r not in pages]
    for route in routes:
        response = client.get(route)
        if response.status_code >= 500:
            failed.append(f"{route}: {response.status_code}")
    assert not failed, "\n".join(failed)


def test_a_contact_form_opened_in_a_new_tab_is_the_customer_page_with_the_form(app, login):
    from sqlalchemy import select

    from mktapp.extensions import db
    from mktapp.models import User
    from mktapp.models.sales import Contact, Customer

    with app.app_context():
        rep = db.session.scalar(select(User).where(User.username == "sales1"))
        customer = db.session.scalars(
            select(Customer).where(Customer.owner_id == rep.id).order_by(Customer.id)
        ).first()
        db.session.add(Contact(customer_id=customer.id, name="新标签页测试联系人"))
        db.session.commit()
        customer_id = customer.id
        contact_id = db.session.scalar(
            select(Contact.id).where(Contact.name == "新标签页测试联系人")
        )
    client = login("sales1")
    new = client.get(f"/sales/customers/{customer_id}/contacts/new")
    edit = client.get(f"/sales/customers/{customer_id}/contacts/{contact_id}/edit")
    for response, action in (
        (new, f"/sales/customers/{customer_id}/contacts/new"),
        (edit, f"/sales/customers/{customer_id}/contacts/{contact_id}/edit"),
    ):
        text = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "<html" in text and "</html>" in text  # the whole page, not a fragment
        assert f'action="{action}"' in text
    assert 'value="新标签页测试联系人"' in edit.get_data(as_text=True)
