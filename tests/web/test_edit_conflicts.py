"""Two people editing one record: the second save does not silently overwrite the first
(core.actions: the form carries the version it was read at)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mktapp.extensions import db
from mktapp.models import Customer
from tests.html_forms import form_for, page_forms
from tests.web.crawler import crawl


def _customer_of(app, demo, username="sales1") -> int:
    with app.app_context():
        return db.session.scalar(
            select(Customer.id)
            .where(Customer.owner_id == demo[username], Customer.archived_at.is_(None))
            .order_by(Customer.id)
            .limit(1)
        )


def _edit_form(client, customer_id):
    url = f"/sales/customers/{customer_id}/edit"
    return form_for(client.get(url).get_data(as_text=True), url)


def test_a_save_over_someone_elses_change_is_refused_with_their_name_and_the_field(
    app, login, demo
):
    customer_id = _customer_of(app, demo)
    rep, manager = login("sales1"), login("manager")
    mine, theirs = _edit_form(rep, customer_id), _edit_form(manager, customer_id)
    assert "_version" in mine.fields and "_seen" in mine.fields

    theirs.fields["address"] = "经理改的地址 1 号"
    assert manager.post(theirs.action, data=theirs.fields).status_code in (302, 303)

    mine.fields["address"] = "业务员改的地址 2 号"
    refused = rep.post(mine.action, data=mine.fields)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "王建国" in page  # the manager, who saved first
    assert "经理改的地址 1 号" in page  # what they saved, at the field
    assert "业务员改的地址 2 号" in page  # what this person typed is still on the form
    with app.app_context():
        assert db.session.get(Customer, customer_id).address == "经理改的地址 1 号"

    again = form_for(page, mine.action)  # saving again overwrites, on purpose
    assert rep.post(again.action, data=again.fields).status_code in (302, 303)
    with app.app_context():
        assert db.session.get(Customer, customer_id).address == "业务员改的地址 2 号"


def test_a_change_to_what_the_form_does_not_show_is_no_conflict(app, login, demo):
    from mktapp.models import utcnow

    customer_id = _customer_of(app, demo)
    rep = login("sales1")
    mine = _edit_form(rep, customer_id)
    with app.app_context():  # meanwhile the customer is handed over: a field not on the form
        customer = db.session.get(Customer, customer_id)
        before = customer.row_version
        customer.assigned_at = utcnow()
        db.session.commit()
        assert customer.row_version == before + 1
    mine.fields["notes"] = "交接后补充的备注"
    assert rep.post(mine.action, data=mine.fields).status_code in (302, 303)
    with app.app_context():
        assert db.session.get(Customer, customer_id).notes == "交接后补充的备注"


def test_the_same_new_customer_form_sent_twice_makes_one_customer(app, login):
    rep = login("sales1")
    form = form_for(rep.get("/sales/customers/new").get_data(as_text=True), "/sales/customers/new")
    assert "_once" in form.fields
    form.fields.update(name="双击测试有限公司", confirm_duplicate="1")
    first = rep.post(form.action, data=form.fields)
    second = rep.post(form.action, data=form.fields)
    assert first.status_code in (302, 303), first.get_data(as_text=True)[:2000]
    assert second.status_code in (302, 303)
    assert second.headers["Location"] == first.headers["Location"]  # the record made first
    with app.app_context():
        names = db.session.scalars(select(Customer).where(Customer.name == "双击测试有限公司"))
        assert len(names.all()) == 1


@pytest.mark.parametrize("username", ["manager", "market1"])
def test_every_edit_form_found_by_walking_carries_the_version_it_was_read_at(app, login, username):
    """An edit form without it would overwrite silently: found by walking, not listed."""
    client = login(username)
    pages: dict[str, str] = {}
    crawl(client, on_page=lambda url, page: pages.setdefault(url, page))
    adapter = app.url_map.bind("localhost")
    edit_forms, unversioned = set(), []
    for page in pages.values():
        for form in page_forms(page):
            try:
                endpoint, _ = adapter.match(form.action, method="POST")
            except Exception:  # noqa: BLE001, S112  (not a route that takes a POST)
                continue
            if form.method == "post" and endpoint.endswith("edit"):
                edit_forms.add(form.action)
                if "_version" not in form.fields:
                    unversioned.append(form.action)
    assert len(edit_forms) >= 5
    assert not unversioned, "edit forms that would overwrite silently: " + ", ".join(
        sorted(set(unversioned))
    )
