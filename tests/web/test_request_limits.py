"""What no person types cannot reach the database: NUL bytes and lone surrogates, numbers
past the integer columns, NaN (core/requests.py, core.forms.AppForm). On PostgreSQL each
of these was a 500; here every one is a clear answer."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from mktapp.core.forms import AppForm
from mktapp.extensions import db
from mktapp.models import Customer, IndustryNews
from tests.html_forms import form_for
from tests.web.crawler import crawl

HUGE = "99999999999999999999"


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_form_of_the_app_is_an_app_form(app):
    strays = [
        f"{c.__module__}.{c.__name__}"
        for c in _subclasses(FlaskForm)
        if c.__module__.startswith("mktapp") and not issubclass(c, AppForm)
    ]
    assert not strays, "forms that skip the app's input checks: " + ", ".join(strays)


@pytest.mark.parametrize("username", ["manager", "sales1"])
def test_no_page_fails_on_a_nul_byte_or_a_huge_number_in_its_query(login, username):
    client = login(username)
    paths: set[str] = set()
    crawl(client, on_page=lambda url, page: paths.add(urlsplit(url).path))
    assert len(paths) > 40
    failed = []
    for path in sorted(paths):
        for query in (
            f"q=a%00b&page={HUGE}&sort=%00",
            f"page=-{HUGE}&id={HUGE}&ids={HUGE}&customer_id={HUGE}&activity_id={HUGE}",
            "q=%ED%A0%80&year=" + HUGE,
        ):
            response = client.get(f"{path}?{query}")
            if response.status_code >= 500:
                failed.append(f"{path}?{query}: {response.status_code}")
    assert not failed, "\n".join(failed)


def test_an_id_past_the_integer_range_in_an_address_is_not_found(login):
    client = login("manager")
    assert client.get(f"/sales/customers/{HUGE}").status_code == 404
    assert client.get(f"/org/users/{HUGE}").status_code == 404


def test_a_search_with_a_nul_byte_searches_without_it(app, login, demo):
    with app.app_context():
        name = db.session.scalar(select(Customer.name).order_by(Customer.id).limit(1))
    page = login("manager").get(f"/sales/customers/?q={name[:1]}%00{name[1:2]}")
    assert page.status_code == 200 and name in page.get_data(as_text=True)


def test_a_nul_byte_in_a_form_field_is_refused_at_the_field_and_nothing_is_saved(app, login):
    client = login("market1")
    url = "/research/news/new"
    form = form_for(client.get(url).get_data(as_text=True), url)
    form.fields["title"] = "行业\x00动态"
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(IndustryNews))
    response = client.post(url, data=form.fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "控制字符" in page and 'aria-invalid="true"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IndustryNews)) == before


def test_a_number_past_the_column_is_a_message_not_a_crash(app, login, demo):
    client = login("sales1")
    url = "/sales/customers/new"
    form = form_for(client.get(url).get_data(as_text=True), url)
    form.fields.update(name="超大编号测试公司", source_activity_id=HUGE)
    response = client.post(url, data=form.fields)
    assert response.status_code == 422
    with app.app_context():
        assert not db.session.scalar(select(Customer.id).where(Customer.name == "超大编号测试公司"))
