"""Customer pages (P4.1 step 1): lists, the form and its duplicate warning, the customer
page, contacts and follow-ups by htmx, hand-off, merge, archive, permissions."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import func, select

from mktapp.core import clock
from mktapp.extensions import db
from mktapp.models import AuditLog, Notification, User
from mktapp.models.sales import Contact, Customer, Interaction


def make_customer(
    app, owner: str | None, name: str = "南京测试机电有限公司", phone: str = "", **kw
):
    from mktapp.sales.customers import name_key, phone_key

    with app.app_context():
        owner_id = (
            db.session.scalar(select(User.id).where(User.username == owner)) if owner else None
        )
        customer = Customer(name=name, name_key=name_key(name), owner_id=owner_id, **kw)
        if phone:
            customer.contacts.append(
                Contact(name="赵经理", phone=phone, phone_key=phone_key(phone), is_primary=True)
            )
        db.session.add(customer)
        db.session.commit()
        return customer.id


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_customer_list_shows_demo_customers_with_owner_and_source(login):
    page = login("manager").get("/sales/customers/").get_data(as_text=True)
    assert "上海恒通精密机械有限公司" in page
    assert "展会名片" in page and "张" not in "" and "客户" in page


def test_list_search_by_name_and_phone_and_filters(app, login):
    make_customer(app, "sales1", "无锡远航电子有限公司", phone="139-1234-5678", grade="A")
    c = login("manager")
    assert "无锡远航电子" in c.get("/sales/customers/?q=远航").get_data(as_text=True)
    by_phone = c.get("/sales/customers/?q=12345678").get_data(as_text=True)
    assert "无锡远航电子" in by_phone and "上海恒通" not in by_phone
    graded = c.get("/sales/customers/?grade=C").get_data(as_text=True)
    assert "无锡远航电子" not in graded
    pool = c.get("/sales/customers/?source=fair&province=四川").get_data(as_text=True)
    assert "成都天成医疗器械" in pool and "上海恒通" not in pool


def test_search_is_an_htmx_fragment_with_the_url_pushed(login):
    response = login("manager").get("/sales/customers/?q=恒通", htmx="customer_rows")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="customer_rows"')
    assert "<html" not in html
    assert "q=" in response.headers["HX-Push-Url"]


def test_empty_filter_result_says_so(login):
    html = login("manager").get("/sales/customers/?q=不存在的客户名").get_data(as_text=True)
    assert "没有符合筛选条件的客户" in html or "No customer matches" in html


def test_sales_rep_sees_own_and_pool_not_other_reps_customers(login):
    html = login("sales1").get("/sales/customers/").get_data(as_text=True)
    assert "上海恒通精密机械" in html  # own
    assert "成都天成医疗器械" in html  # pool
    assert "深圳星辰新能源" not in html  # sales2's


def test_sales_rep_cannot_open_other_reps_customer(app, login):
    other = make_customer(app, "sales2", "常州金桥新能源科技有限公司")
    c = login("sales1")
    assert c.get(f"/sales/customers/{other}").status_code == 404
    assert c.get(f"/sales/customers/{other}/edit").status_code == 404
    assert c.post(f"/sales/customers/{other}/archive").status_code == 404


def test_pool_and_mine_views(login):
    c = login("sales1")
    pool = c.get("/sales/customers/pool").get_data(as_text=True)
    assert "成都天成医疗器械" in pool and "上海恒通" not in pool
    mine = c.get("/sales/customers/mine").get_data(as_text=True)
    assert "上海恒通" in mine and "成都天成" not in mine


def test_export_is_a_workbook_of_the_filtered_list(login):
    from openpyxl import load_workbook

    response = login("manager").get("/sales/customers.xlsx?source=fair")
    assert response.status_code == 200 and "spreadsheetml" in response.mimetype
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    names = [r[0] for r in rows[1:]]
    assert "上海恒通精密机械有限公司" in names and "苏州博远电子科技股份有限公司" not in names


def test_create_customer_with_first_contact(app, login):
    c = login("sales1")
    response = c.post(
        "/sales/customers/new",
        data={
            "name": "合肥联创智能装备有限公司",
            "kind": "company",
            "grade": "B",
            "status": "potential",
            "source": "fair",
            "source_detail": "2026 合肥智博会",
            "province": "安徽",
            "city": "合肥",
            "contact_name": "孙强",
            "contact_phone": "+86 138 0551 2233",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with app.app_context():
        customer = db.session.scalar(
            select(Customer).where(Customer.name_key == "合肥联创智能装备")
        )
        assert customer.owner.username == "sales1"
        assert customer.contacts[0].phone_key == "13805512233"
        assert customer.contacts[0].is_primary


def test_missing_name_is_422_and_nothing_saved(app, login):
    before = count(app, Customer)
    response = login("sales1").post(
        "/sales/customers/new",
        data={"name": " ", "kind": "company", "grade": "A", "status": "potential", "source": "web"},
    )
    assert response.status_code == 422
    assert "客户名称" in response.get_data(as_text=True) or "name" in response.get_data(
        as_text=True
    )
    assert count(app, Customer) == before


def test_duplicate_name_warns_with_a_link_then_create_anyway(app, login):
    c = login("sales1")
    data = {
        "name": "上海恒通精密机械 股份有限公司",
        "kind": "company",
        "grade": "B",
        "status": "potential",
        "source": "web",
    }
    before = count(app, Customer)
    warned = c.post("/sales/customers/new", data=data)
    html = warned.get_data(as_text=True)
    assert warned.status_code == 422
    assert "上海恒通精密机械有限公司" in html and "/sales/customers/" in html
    assert 'name="confirm_duplicate" type="hidden" value="1"' in html or 'value="1"' in html
    assert count(app, Customer) == before
    created = c.post("/sales/customers/new", data={**data, "confirm_duplicate": "1"})
    assert created.status_code == 303
    assert count(app, Customer) == before + 1


def test_duplicate_phone_warns(app, login):
    make_customer(app, "sales1", "广州宏达商贸有限公司", phone="020-8888-1234")
    response = login("sales1").post(
        "/sales/customers/new",
        data={
            "name": "完全不同的名字",
            "kind": "company",
            "grade": "C",
            "status": "potential",
            "source": "web",
            "contact_name": "钱",
            "contact_phone": "02088881234",
        },
    )
    assert response.status_code == 422
    assert "广州宏达商贸有限公司" in response.get_data(as_text=True)


def test_customer_page_shows_contacts_timeline_and_followup_form(app, login):
    with app.app_context():
        cid = db.session.scalar(
            select(Customer.id).where(Customer.name == "上海恒通精密机械有限公司")
        )
    html = login("sales1").get(f"/sales/customers/{cid}").get_data(as_text=True)
    assert "联系人" in html and "跟进" in html
    assert 'id="followup_form"' in html
    assert "电话" in html  # a follow-up kind in the timeline


def test_followup_by_htmx_returns_the_activity_block(app, login):
    cid = make_customer(app, "sales1", phone="13900001111")
    c = login("sales1")
    response = c.post(
        f"/sales/customers/{cid}/followups",
        data={
            "kind": "visit",
            "happened_at": clock.local_now().strftime("%Y-%m-%dT%H:%M"),
            "notes": "上门拜访，确认需求",
            "next_date": (clock.local_now() + timedelta(days=3)).date().isoformat(),
            "next_action": "发送报价",
        },
        htmx=True,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:1500]
    assert html.lstrip().startswith('<div id="customer_activity"')
    assert "上门拜访，确认需求" in html and "发送报价" in html
    assert count(app, Interaction, Interaction.customer_id == cid) == 1


def test_followup_without_notes_is_422_and_nothing_saved(app, login):
    cid = make_customer(app, "sales1")
    response = login("sales1").post(
        f"/sales/customers/{cid}/followups",
        data={
            "kind": "call",
            "happened_at": clock.local_now().strftime("%Y-%m-%dT%H:%M"),
            "notes": "",
        },
        htmx=True,
    )
    assert response.status_code == 422
    assert count(app, Interaction, Interaction.customer_id == cid) == 0


def test_add_contact_by_htmx(app, login):
    cid = make_customer(app, "sales1")
    c = login("sales1")
    form = c.get(f"/sales/customers/{cid}/contacts/new", htmx="customer_contacts")
    assert form.get_data(as_text=True).lstrip().startswith('<section id="customer_contacts"')
    bad = c.post(
        f"/sales/customers/{cid}/contacts/new",
        data={"name": "李娜", "email": "not-an-email"},
        htmx=True,
    )
    assert bad.status_code == 422 and count(app, Contact, Contact.customer_id == cid) == 0
    ok = c.post(
        f"/sales/customers/{cid}/contacts/new",
        data={"name": "李娜", "phone": "13700001234", "title": "采购经理"},
        htmx=True,
    )
    assert ok.status_code == 200 and "李娜" in ok.get_data(as_text=True)
    with app.app_context():
        contact = db.session.scalar(select(Contact).where(Contact.customer_id == cid))
        assert contact.is_primary and contact.phone_key == "13700001234"


def test_market_specialist_assigns_a_lead_and_the_rep_is_notified(app, login, demo):
    cid = make_customer(app, None, "郑州正泰建材有限公司")
    response = login("market1").post(
        f"/sales/customers/{cid}/assign", data={"owner_id": str(demo["sales2"])}
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Customer, cid).owner_id == demo["sales2"]
        note = db.session.scalar(select(Notification).where(Notification.user_id == demo["sales2"]))
        assert "郑州正泰建材" in note.title
        assert db.session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(
                AuditLog.record_type == "Customer",
                AuditLog.record_id == cid,
                AuditLog.action == "update",
            )
        )


def test_sales_rep_cannot_assign(app, login, demo):
    cid = make_customer(app, "sales1")
    assert login("sales1").post(
        f"/sales/customers/{cid}/assign", data={"owner_id": str(demo["sales2"])}
    ).status_code in (403, 422)
    with app.app_context():
        assert db.session.get(Customer, cid).owner_id == demo["sales1"]


def test_rep_claims_from_pool_and_releases_back(app, login, demo):
    cid = make_customer(app, None, "烟台永安食品有限公司")
    c = login("sales1")
    assert c.post(f"/sales/customers/{cid}/claim").status_code == 303
    with app.app_context():
        assert db.session.get(Customer, cid).owner_id == demo["sales1"]
    assert login("sales2").get(f"/sales/customers/{cid}").status_code == 404
    assert c.post(f"/sales/customers/{cid}/release").status_code == 303
    with app.app_context():
        assert db.session.get(Customer, cid).owner_id is None


def test_archive_hides_customer_from_list(app, login):
    cid = make_customer(app, "sales1", "绍兴旭日纺织有限公司")
    c = login("sales1")
    assert c.post(f"/sales/customers/{cid}/archive").status_code == 303
    listed = 'class="customer-name">绍兴旭日纺织'
    assert listed not in c.get("/sales/customers/").get_data(as_text=True)
    assert listed in c.get("/sales/customers/?archived=1").get_data(as_text=True)


def test_manager_merges_duplicate_and_records_move(app, login):
    keep = make_customer(app, "sales1", "泉州九州电子有限公司", phone="13512345678")
    dup = make_customer(app, "sales2", "泉州九州电子", phone="0595-1234567")
    with app.app_context():
        db.session.add(Interaction(customer_id=dup, kind="call", notes="老记录"))
        db.session.commit()
    c = login("manager")
    form = c.get(f"/sales/customers/{keep}/merge").get_data(as_text=True)
    assert f'value="{dup}"' in form
    assert login("sales1").get(f"/sales/customers/{keep}/merge").status_code == 403
    response = c.post(f"/sales/customers/{keep}/merge", data={"other_id": str(dup)})
    assert response.status_code == 303
    with app.app_context():
        loser = db.session.get(Customer, dup)
        assert loser.merged_into_id == keep and loser.is_archived
        assert count(app, Contact, Contact.customer_id == keep) == 2
        assert count(app, Interaction, Interaction.customer_id == keep) == 1


def test_customer_page_query_count_with_1000_followups(app, login, count_queries):
    cid = make_customer(app, "sales1", phone="13800000000")
    with app.app_context():
        now = clock.now()
        db.session.execute(
            Interaction.__table__.insert(),
            [
                {
                    "customer_id": cid,
                    "kind": "call",
                    "notes": f"第{i}次电话",
                    "happened_at": now - timedelta(hours=i),
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1000)
            ],
        )
        db.session.commit()
    c = login("sales1")
    c.get(f"/sales/customers/{cid}")
    with count_queries() as q:
        response = c.get(f"/sales/customers/{cid}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count('class="tl-item') == 50
    assert 'id="timeline_more"' in html
    # One query per panel of other chapters (contracts, after-sales tickets) included.
    assert q.count <= 9, "\n".join(q.statements)
    more = c.get(f"/sales/customers/{cid}/timeline?offset=50", htmx="timeline_more")
    assert more.get_data(as_text=True).count('class="tl-item') == 50


def test_timeline_shows_changes_of_customer_and_contacts(app, login):
    c = login("sales1")
    c.post(
        "/sales/customers/new",
        data={
            "name": "宁波海川模具有限公司",
            "kind": "company",
            "grade": "B",
            "status": "potential",
            "source": "web",
            "contact_name": "周杰",
        },
    )
    with app.app_context():
        cid = db.session.scalar(select(Customer.id).where(Customer.name == "宁波海川模具有限公司"))
    c.post(
        f"/sales/customers/{cid}/edit",
        data={
            "name": "宁波海川模具有限公司",
            "kind": "company",
            "grade": "A",
            "status": "intent",
            "source": "web",
        },
    )
    html = c.get(f"/sales/customers/{cid}").get_data(as_text=True)
    assert "tl-change" in html and "意向" in html


def test_followups_page_lists_due_and_sends_reminder_once(app, login, demo):
    cid = make_customer(app, "sales1", "洛阳恒通重工有限公司")
    today = clock.today()
    with app.app_context():
        db.session.add(
            Interaction(
                customer_id=cid,
                owner_id=demo["sales1"],
                kind="call",
                notes="约下周",
                happened_at=clock.now() - timedelta(days=7),
                next_date=today - timedelta(days=1),
                next_action="回访报价",
            )
        )
        db.session.commit()
    c = login("sales1")
    html = c.get("/sales/followups").get_data(as_text=True)
    assert "洛阳恒通重工" in html and "回访报价" in html
    c.get("/sales/followups")
    with app.app_context():
        notes = db.session.scalars(
            select(Notification).where(
                Notification.user_id == demo["sales1"], Notification.title.contains("洛阳恒通重工")
            )
        ).all()
        assert len(notes) == 1


def test_sidebar_has_customer_entries(login):
    html = login("sales1").get("/sales/customers/").get_data(as_text=True)
    assert "/sales/customers/pool" in html and "/sales/followups" in html


def test_service_agent_reads_but_cannot_create(login):
    c = login("service1")
    assert c.get("/sales/customers/").status_code == 200
    assert c.get("/sales/customers/new").status_code == 403
