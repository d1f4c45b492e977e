"""The searchable record picker (core/pickers): its search endpoint through the record
rules, bad input in the query, the opportunity form and the merge form submitting a
picked customer (with and without JavaScript), and the customer list's total."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from mktapp.extensions import db
from mktapp.models import User
from mktapp.models.sales import Contact, Customer, Opportunity

EN = {"Accept-Language": "en"}


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def make_customers(app, owner: str | None, *names: str) -> list[int]:
    from mktapp.sales.customers import name_key

    owner_id = user_id(app, owner) if owner else None
    with app.app_context():
        rows = [Customer(name=n, name_key=name_key(n), owner_id=owner_id) for n in names]
        db.session.add_all(rows)
        db.session.commit()
        return [c.id for c in rows]


def opportunities(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Opportunity.id)))


def option_ids(html: str) -> list[int]:
    return [int(v) for v in re.findall(r'data-value="(\d+)"', html)]


# --- the search endpoint -------------------------------------------------------------------


def test_sales_rep_finds_own_and_pool_customers_but_not_another_reps(app, login):
    mine, theirs, pool = (
        make_customers(app, "sales1", "丽水甲测试仪器有限公司")[0],
        make_customers(app, "sales2", "丽水乙测试仪器有限公司")[0],
        make_customers(app, None, "丽水丙测试仪器有限公司")[0],
    )
    found = login("sales1").get("/pick/customers?q=丽水&field=customer_id", htmx=True)
    assert found.status_code == 200
    html = found.get_data(as_text=True)
    assert set(option_ids(html)) == {mine, pool}
    assert "丽水乙" not in html
    assert f'id="customer_id-opt-{mine}"' in html and 'role="option"' in html
    assert "丽水乙" in login("sales2").get("/pick/customers?q=丽水", htmx=True).get_data(
        as_text=True
    )
    manager = login("manager").get("/pick/customers?q=丽水", htmx=True).get_data(as_text=True)
    assert set(option_ids(manager)) == {mine, theirs, pool}


def test_search_matches_the_folded_name_and_ranks_a_name_that_starts_with_it_first(app, login):
    later, first = make_customers(app, None, "上海衢州测试有限公司", "衢州测试（集团）有限公司")
    c = login("manager")
    folded = c.get("/pick/customers?q=衢州 测试", htmx=True).get_data(as_text=True)
    assert set(option_ids(folded)) == {first, later}  # the space is folded away
    html = c.get("/pick/customers?q=衢州测试", htmx=True).get_data(as_text=True)
    assert option_ids(html) == [first, later]


def test_sql_and_html_in_the_query_are_harmless_and_escaped(app, login):
    c = login("manager")
    for q in ("' OR 1=1 --", '"; DROP TABLE customers; --', "%", "_", "\\"):
        response = c.get("/pick/customers", query_string={"q": q}, htmx=True)
        assert response.status_code == 200, q
        assert option_ids(response.get_data(as_text=True)) == [], q
    evil = c.get(
        "/pick/customers",
        query_string={"q": "<script>alert(1)</script>", "field": 'x"><img src=x>'},
        headers=EN,
        htmx=True,
    )
    html = evil.get_data(as_text=True)
    assert evil.status_code == 200
    assert "<script>" not in html and "<img" not in html
    assert "Nothing matches “&lt;script&gt;alert(1)&lt;/script&gt;”." in html
    assert 'id="picker-status"' in html  # the bad field id was replaced
    with app.app_context():
        assert db.session.scalar(select(func.count(Customer.id))) > 0  # still there


def test_empty_query_lists_the_first_twenty_and_says_there_are_more(app, login):
    make_customers(app, None, *(f"温岭第{i:02d}号测试泵业有限公司" for i in range(30)))
    c = login("manager")
    html = c.get("/pick/customers?q=", headers=EN, htmx=True).get_data(as_text=True)
    assert len(option_ids(html)) == 20
    assert "The first 20 are shown" in html
    few = c.get("/pick/customers?q=第05号", headers=EN, htmx=True).get_data(as_text=True)
    assert len(option_ids(few)) == 1 and "1 found." in few


def test_the_combobox_sends_its_box_under_the_fields_name(app, login):
    (cid,) = make_customers(app, None, "舟山测试渔业有限公司")
    html = (
        login("manager")
        .get("/pick/customers?field=customer_id&customer_id-q=舟山测试", htmx=True)
        .get_data(as_text=True)
    )
    assert option_ids(html) == [cid]


def test_who_may_search_what(app, login, client):
    assert login("finance1").get("/pick/customers?q=a", htmx=True).status_code == 403
    assert login("service1").get("/pick/customers?q=a", htmx=True).status_code == 200
    assert login("manager").get("/pick/nothing?q=a", htmx=True).status_code == 404
    assert client.get("/pick/customers?q=a").status_code == 302  # to the login page
    products = login("sales1").get("/pick/products?q=", htmx=True)
    assert products.status_code == 200


def test_without_javascript_the_search_is_a_page(app, login):
    make_customers(app, None, "台州测试模具有限公司")
    page = login("manager").get("/pick/customers?q=台州测试", headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "台州测试模具有限公司" in html and "<html" in html and "1 found." in html


# --- the opportunity form ------------------------------------------------------------------


def new_opportunity(c, **data):
    base = {"title": "会议室改造", "amount": "10000", "stage": "prospect"}
    return c.post("/sales/opportunities/new", data={**base, **data}, headers=EN, htmx=True)


def test_the_opportunity_form_shows_a_picker_not_a_select_of_every_customer(app, login):
    (cid,) = make_customers(app, "sales1", "嵊州测试电机有限公司")
    html = (
        login("sales1")
        .get(f"/sales/opportunities/new?customer_id={cid}", headers=EN)
        .get_data(as_text=True)
    )
    assert '<select id="customer_id"' not in html
    assert f'<input type="hidden" name="customer_id" value="{cid}"' in html
    assert 'role="combobox"' in html and 'value="嵊州测试电机有限公司"' in html
    assert 'aria-controls="customer_id-list"' in html and "/pick/customers" in html


def test_opportunity_form_saves_the_picked_customer(app, login):
    (cid,) = make_customers(app, "sales1", "诸暨测试袜业有限公司")
    response = new_opportunity(
        login("sales1"), customer_id=str(cid), **{"customer_id-q": "诸暨测试袜业有限公司"}
    )
    assert (
        response.status_code == 204 and "/sales/opportunities/" in response.headers["HX-Redirect"]
    )
    with app.app_context():
        saved = db.session.scalars(select(Opportunity).order_by(Opportunity.id.desc())).first()
        assert saved.customer_id == cid and saved.title == "会议室改造"


def test_without_javascript_the_typed_name_is_resolved_to_one_customer(app, login):
    (cid,) = make_customers(app, "sales1", "义乌测试小商品有限公司")
    c = login("sales1")
    # The hidden id is empty (no script chose); the box holds what was typed.
    response = c.post(
        "/sales/opportunities/new",
        data={"customer_id": "", "customer_id-q": "义乌测试", "title": "展厅", "amount": "1"},
    )
    assert response.status_code == 303
    with app.app_context():
        saved = db.session.scalars(select(Opportunity).order_by(Opportunity.id.desc())).first()
        assert saved.customer_id == cid


def test_several_matches_come_back_as_a_choice_and_nothing_is_saved(app, login):
    ids = make_customers(app, "sales1", "慈溪测试家电有限公司", "慈溪测试电器有限公司")
    c = login("sales1")
    before = opportunities(app)
    response = new_opportunity(c, customer_id="", **{"customer_id-q": "慈溪测试"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Several match “慈溪测试”: choose one." in html
    assert "data-picker-matches" in html and set(ids) <= set(
        int(v) for v in re.findall(r'<option value="(\d+)"', html)
    )
    # choosing one of them from that select (it posts the id, the text stays) saves it
    chosen = new_opportunity(c, customer_id=str(ids[1]), **{"customer_id-q": "慈溪测试"})
    assert chosen.status_code == 204
    assert opportunities(app) == before + 1


def test_a_customer_the_user_may_not_see_is_a_field_error(app, login):
    (theirs,) = make_customers(app, "sales2", "温州测试鞋业有限公司")
    c = login("sales1")
    before = opportunities(app)
    by_id = new_opportunity(c, customer_id=str(theirs))
    assert by_id.status_code == 422
    assert "Choose a customer from the list." in by_id.get_data(as_text=True)
    by_name = new_opportunity(
        c, customer_id=str(theirs), **{"customer_id-q": "温州测试鞋业有限公司"}
    )
    assert by_name.status_code == 422
    html = by_name.get_data(as_text=True)
    assert "Nothing matches “温州测试鞋业有限公司”" in html and 'aria-invalid="true"' in html
    assert opportunities(app) == before


def test_bad_text_in_the_box_gets_a_message_and_no_5xx(app, login):
    c = login("sales1")
    before = opportunities(app)
    for text in ("<b>x</b>", "' OR 1=1 --", "%", "x" * 500):
        response = new_opportunity(c, customer_id="", **{"customer_id-q": text})
        assert response.status_code == 422, text
        html = response.get_data(as_text=True)
        assert "<b>x</b>" not in html
        assert "Nothing matches" in html or "match" in html
    empty = new_opportunity(c, customer_id="", **{"customer_id-q": ""})
    assert empty.status_code == 422
    assert "Choose a customer from the list." in empty.get_data(as_text=True)
    assert opportunities(app) == before


# --- the merge form ------------------------------------------------------------------------


def test_manager_merges_a_customer_found_by_name(app, login):
    keep, dup = make_customers(app, "sales1", "宁海测试文具有限公司", "象山测试海产有限公司")
    c = login("manager")
    page = c.get(f"/sales/customers/{keep}/merge", headers=EN).get_data(as_text=True)
    assert 'role="combobox"' in page
    response = c.post(f"/sales/customers/{keep}/merge", data={"other-q": "象山测试海产"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Customer, dup).merged_into_id == keep


def test_merge_without_a_choice_says_so(app, login):
    (keep,) = make_customers(app, "sales1", "奉化测试水蜜桃有限公司")
    response = login("manager").post(
        f"/sales/customers/{keep}/merge", data={"other-q": ""}, headers=EN
    )
    assert response.status_code == 422
    assert "Choose the duplicate customer." in response.get_data(as_text=True)


# --- the customer list's total -------------------------------------------------------------


def visible_count(app, username: str) -> int:
    from mktapp.sales.customers import CustomerQuery, _filtered, count_customers

    with app.app_context():
        user = db.session.get(User, user_id(app, username))
        return count_customers(_filtered(user, CustomerQuery(), "all"))[0]


def test_customer_list_shows_its_total(app, login):
    make_customers(app, None, *(f"临海第{i:02d}号测试眼镜有限公司" for i in range(30)))
    total = visible_count(app, "sales1")
    assert total > 25
    html = login("sales1").get("/sales/customers/").get_data(as_text=True)
    assert f"第 1–25 个，共 {total} 个客户" in html
    second = login("sales1").get("/sales/customers/?page=2").get_data(as_text=True)
    assert f"第 26–{min(total, 50)} 个，共 {total} 个客户" in second
    searched = login("sales1").get("/sales/customers/?q=临海第0").get_data(as_text=True)
    assert "第 1–10 个，共 10 个客户" in searched
    none = login("sales1").get("/sales/customers/?q=没有这个客户").get_data(as_text=True)
    assert "共 0 个客户" in none


def test_past_the_cap_the_total_is_an_estimate(app, login, monkeypatch):
    from mktapp.core import fragments
    from mktapp.sales import customers

    make_customers(app, None, *(f"三门第{i:02d}号测试青蟹有限公司" for i in range(30)))
    monkeypatch.setattr(customers, "COUNT_CAP", 20)
    fragments.clear()
    html = login("manager").get("/sales/customers/", headers=EN).get_data(as_text=True)
    fragments.clear()
    assert "1–25 of more than 20 customers" in html
    assert 'rel="next"' in html


# --- phone numbers -------------------------------------------------------------------------


def test_a_phone_number_with_letters_is_refused_and_nothing_is_written(app, login):
    (cid,) = make_customers(app, "sales1", "仙居测试杨梅有限公司")
    c = login("sales1")
    response = c.post(
        f"/sales/customers/{cid}/contacts/new",
        data={"name": "周洁", "phone": "138abc00138"},
        headers=EN,
        htmx=True,
    )
    assert response.status_code == 422
    assert "Enter a mobile number like 138 0013 8000" in response.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(select(func.count(Contact.id)).where(Contact.customer_id == cid)) == 0
        )
    saved = c.post(
        f"/sales/customers/{cid}/contacts/new",
        data={"name": "周洁", "phone": "+86 138 0013 8000"},
        htmx=True,
    )
    assert saved.status_code == 200
    with app.app_context():
        contact = db.session.scalars(select(Contact).where(Contact.customer_id == cid)).one()
        assert (contact.phone, contact.phone_key) == ("13800138000", "13800138000")


def test_a_new_customers_landline_is_saved_with_its_area_code(app, login):
    c = login("sales1")
    response = c.post(
        "/sales/customers/new",
        data={
            "name": "天台测试佛具有限公司",
            "kind": "company",
            "grade": "C",
            "status": "potential",
            "source": "fair",
            "contact_name": "陈总",
            "contact_phone": "0576 8888 1234 转 8",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        contact = db.session.scalars(
            select(Contact).join(Customer).where(Customer.name == "天台测试佛具有限公司")
        ).one()
        assert contact.phone == "0576-88881234转8"
    no_area = c.post(
        "/sales/customers/new",
        data={"name": "三门测试海鲜有限公司", "contact_name": "王", "contact_phone": "8888 1234"},
        headers=EN,
    )
    assert no_area.status_code == 422
    assert "Add the area code" in no_area.get_data(as_text=True)


def test_lead_import_reports_the_row_of_a_bad_phone_number_and_skips_it(app, login):
    import io

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["公司名称", "联系人", "手机"])
    book.active.append(["岱山测试船舶有限公司", "李工", "138 0013 8001"])
    book.active.append(["嵊泗测试渔具有限公司", "王工", "电话138OO138002"])
    data = io.BytesIO()
    book.save(data)
    c = login("market1")
    uploaded = c.post(
        "/sales/customers/import",
        data={"file": (io.BytesIO(data.getvalue()), "leads.xlsx")},
        content_type="multipart/form-data",
    )
    token = re.search(r"/sales/customers/import/([A-Za-z0-9_-]+)", uploaded.headers["Location"])
    mapping = {"col0": "name", "col1": "contact_name", "col2": "phone", "source": "fair"}
    report = c.post(f"/sales/customers/import/{token.group(1)}", data=mapping)
    html = report.get_data(as_text=True)
    assert report.status_code == 200
    assert re.search(r'<td class="num">3</td><td>嵊泗测试渔具有限公司</td>', html)
    assert "电话号码“电话138OO138002”无效" in html
    done = c.post(f"/sales/customers/import/{token.group(1)}/run", data=mapping)
    assert done.status_code == 303
    with app.app_context():
        names = set(db.session.scalars(select(Customer.name).where(Customer.name.like("%测试%"))))
        assert "岱山测试船舶有限公司" in names and "嵊泗测试渔具有限公司" not in names
        phone = db.session.scalar(
            select(Contact.phone).join(Customer).where(Customer.name == "岱山测试船舶有限公司")
        )
        assert phone == "13800138001"


# --- people --------------------------------------------------------------------------------


def test_people_picker_finds_active_colleagues_by_name_or_username(app, login):
    with app.app_context():
        db.session.get(User, user_id(app, "sales3")).active = False
        db.session.commit()
    html = login("manager").get("/pick/people?q=sales", htmx=True).get_data(as_text=True)
    assert set(option_ids(html)) == {user_id(app, "sales1"), user_id(app, "sales2")}


def test_records_are_handed_over_to_a_person_typed_by_name(app, login):
    (cid,) = make_customers(app, "sales2", "苍南测试印刷有限公司")
    c = login("manager")
    page = c.get(f"/org/users/{user_id(app, 'sales2')}/handover").get_data(as_text=True)
    assert 'role="combobox"' in page and "/pick/people" in page
    with app.app_context():
        name = db.session.get(User, user_id(app, "sales1")).display_name
    response = c.post(f"/org/users/{user_id(app, 'sales2')}/handover", data={"target_id-q": name})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Customer, cid).owner_id == user_id(app, "sales1")
