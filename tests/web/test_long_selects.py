"""No select offers more than 50 options: a long list of records (customers, contacts,
products, colleagues) is a searchable picker (core/pickers), a short fixed vocabulary
(stages, statuses, provinces) stays a select.

The pages are found by crawling the app (tests/web/crawler.py), not listed by hand: as
the marketing manager and as a sales rep, from the workbench, following every link
without a query string (lists, records, their "new" and "edit" forms) and the links
that open a form for a record (?customer_id=5: a contract for that customer ...). The
demo company is small (8 customers, 10 products, 11 people), so first it grows by more
than 50 of each kind of record a select could list: customers with opportunities (the
rep's own among them), contacts of one customer, products, sales reps and market
specialists, the reps with customers, opportunities, contracts and claims of their own."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import select

from mktapp.extensions import db
from mktapp.models import CATEGORIES, Contract, ExpenseClaim, Group, Post, Role, User
from mktapp.models.sales import Contact, Customer, Opportunity, Product
from tests.web.crawler import crawl

MAX_OPTIONS = 50
MORE = MAX_OPTIONS + 10  # of each kind: past the limit whoever looks
SELECT = re.compile(r"<select\b([^>]*)>(.*?)</select>", re.S | re.I)
OPTION = re.compile(r"<option\b", re.I)
NAME = re.compile(r'\bname="([^"]*)"')
RECORD_ARG = re.compile(r"[a-z_]+_id")
PICKER = re.compile(r'<input type="hidden" name="([^"]+)" value="[^"]*" data-picker-value')


def grow(app) -> int:
    """More than 50 of each kind of record; returns the customer with many contacts."""
    from mktapp.sales.customers import name_key

    with app.app_context():
        roles = {r.code: r for r in db.session.scalars(select(Role))}
        groups = {g.code: g for g in db.session.scalars(select(Group))}
        posts = {p.code: p for p in db.session.scalars(select(Post))}
        rep = db.session.scalar(select(User).where(User.username == "sales1"))
        people = []
        for i in range(MORE):
            for code, group in (("sales_rep", "sales"), ("market_specialist", "market")):
                people.append(
                    User(
                        username=f"{code[:5]}{i:03d}",
                        display_name=f"{'业务' if group == 'sales' else '市场'}测试员{i:03d}",
                        password_hash="!",  # never signs in
                        active=True,
                        roles=[roles[code]],
                        group=groups[group],
                        post=posts[code],
                    )
                )
        db.session.add_all(people)
        db.session.flush()
        customers = []
        for i in range(MORE):  # the rep's own, and one for each new rep
            for owner, prefix in ((rep, "张伟"), (people[2 * i], "新业务员")):
                name = f"{prefix}测试客户{i:03d}有限公司"
                customers.append(Customer(name=name, name_key=name_key(name), owner=owner))
        db.session.add_all(customers)
        db.session.flush()
        db.session.add_all(
            Opportunity(
                customer=c, owner=c.owner, title=f"测试商机{c.id}", amount=Decimal("1000.00")
            )
            for c in customers
        )
        for i, person in enumerate(people[0::2]):  # each new rep's contract and claim
            customer = customers[2 * i + 1]
            db.session.add(
                Contract(
                    number=f"HT-TEST-{i:03d}",
                    title=f"测试合同{i:03d}",
                    customer=customer,
                    owner=person,
                    draft_date=date(2026, 11, 2),
                )
            )
            db.session.add(
                ExpenseClaim(
                    number=f"BX-TEST-{i:04d}",
                    owner=person,
                    category=next(iter(CATEGORIES)),
                    reason="测试报销",
                    amount=Decimal("88.00"),
                    incurred_on=date(2026, 11, 2),
                    payment_method="bank",
                    status="approved",
                )
            )
        big = customers[0]
        db.session.add_all(
            Contact(customer=big, name=f"联系人{i:03d}", phone=f"1380000{i:04d}")
            for i in range(MORE)
        )
        db.session.add_all(
            Product(
                code=f"TP-{i:03d}",
                name=f"测试产品{i:03d}",
                unit="台",
                list_price=Decimal("100.00") + i,
            )
            for i in range(MORE)
        )
        db.session.commit()
        return big.id


def opens_a_form_for_a_record(parts) -> bool:
    """/contracts/new?customer_id=5 (a form for a record), not a filter or a page of a list."""
    names = [name for name, _value in parse_qsl(parts.query, keep_blank_values=True)]
    return bool(names) and all(RECORD_ARG.fullmatch(n) for n in names)


def long_selects(client, start: list[str]):
    """(the selects of more than MAX_OPTIONS options, the names of the pickers seen, the
    crawl)."""
    problems: list[str] = []
    pickers: set[str] = set()

    def check(url: str, text: str) -> None:
        for attrs, body in SELECT.findall(text):
            count = len(OPTION.findall(body))
            if count > MAX_OPTIONS:
                name = NAME.search(attrs)
                label = html.unescape(name.group(1)) if name else attrs.strip()
                problems.append(f"{url}: <select name={label!r}> has {count} options")
        pickers.update(PICKER.findall(text))

    found = crawl(client, on_page=check, start=start, follow=opens_a_form_for_a_record)
    return problems, pickers, found


# The record choices that are searchable pickers once there are many records to choose
# from (a select of the few otherwise): customers, products, a customer's contacts, people.
PICKERS = {
    "manager": {
        "customer",  # the opportunity list's customer filter
        "owner",  # the owner filters of customers, opportunities and contracts
        "applicant",  # the claim list's applicant filter
        "owner_id",  # a customer's owner, hand to
        "contact_id",  # a follow-up's contact
        "lines-0-product_id",  # a contract's line
        "leader_id",  # a group's leader
        "trainee",  # a training record's trainee
        "staff-0-user_id",  # an activity's staff
        "customer_id",  # the customer of answers taken by phone
    },
    "sales1": {"customer", "contact_id", "lines-0-product_id"},
}


@pytest.mark.parametrize("username", sorted(PICKERS))
def test_no_select_on_any_page_has_more_than_50_options(app, login, username):
    big = grow(app)
    client = login(username)
    problems, pickers, found = long_selects(client, [f"/sales/customers/{big}", "/"])
    assert found.read > 40 and not found.failed, found.failed  # not a vacuous crawl
    assert not problems, "\n".join(problems)
    assert PICKERS[username] <= pickers, sorted(PICKERS[username] - pickers)


# --- the converted choices: typed without JavaScript, bad input ------------------------------

EN = {"Accept-Language": "en"}


def customers_with_opportunities(app, owner: str, *names: str) -> list[int]:
    from mktapp.sales.customers import name_key

    with app.app_context():
        rep = db.session.scalar(select(User).where(User.username == owner))
        rows = [Customer(name=n, name_key=name_key(n), owner=rep) for n in names]
        db.session.add_all(rows)
        db.session.flush()
        db.session.add_all(Opportunity(customer=c, owner=rep, title=f"{c.name}商机") for c in rows)
        db.session.commit()
        return [c.id for c in rows]


def opportunity_titles(html: str) -> set[str]:
    return set(re.findall(r'<a href="/sales/opportunities/\d+">([^<]+)</a>', html))


def test_opportunity_list_filters_by_a_customer_name_typed_without_javascript(app, login):
    one, _two = customers_with_opportunities(
        app, "sales1", "绍兴甲测试纺织有限公司", "绍兴乙测试纺织有限公司"
    )
    c = login("sales1")
    page = c.get("/sales/opportunities", query_string={"customer-q": "绍兴甲测试"}, headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert opportunity_titles(html) == {"绍兴甲测试纺织有限公司商机"}
    # the box now names the customer, the hidden input carries its id
    assert 'name="customer-q" value="绍兴甲测试纺织有限公司"' in html
    assert f'<input type="hidden" name="customer" value="{one}"' in html


def test_several_customers_match_the_typed_name_the_filter_offers_them(app, login):
    ids = customers_with_opportunities(
        app, "sales1", "嘉兴甲测试电子有限公司", "嘉兴乙测试电子有限公司"
    )
    c = login("sales1")
    html = c.get("/sales/opportunities", query_string={"customer-q": "嘉兴"}, headers=EN).get_data(
        as_text=True
    )
    assert "Several match “嘉兴”: choose one." in html
    offered = re.search(r'<select name="customer" data-picker-matches.*?</select>', html, re.S)
    assert offered and set(ids) <= {int(v) for v in re.findall(r'value="(\d+)"', offered.group())}
    # not filtered by customer until one is chosen: the rep's other opportunities are listed
    assert len(opportunity_titles(html)) > 2
    chosen = c.get(f"/sales/opportunities?customer={ids[1]}&customer-q=嘉兴", headers=EN)
    assert opportunity_titles(chosen.get_data(as_text=True)) == {"嘉兴乙测试电子有限公司商机"}


@pytest.mark.parametrize(
    "args",
    [
        {"customer-q": "<script>alert(1)</script>"},
        {"customer-q": "' OR 1=1 --"},
        {"customer-q": "%"},
        {"customer-q": "x" * 500},
        {"customer": "abc"},
        {"customer": "99999999999999"},
        {"owner": "1 OR 1=1"},
    ],
)
def test_bad_filter_input_is_a_message_not_an_error(app, login, args):
    response = login("manager").get("/sales/opportunities", query_string=args, headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert(1)" not in html
    assert "Nothing matches" in html or "not available" in html
    assert 'role="alert"' in html


def test_a_customer_the_rep_may_not_see_is_not_named_nor_filtered_by(app, login):
    (theirs,) = customers_with_opportunities(app, "sales2", "湖州测试竹业有限公司")
    (mine,) = customers_with_opportunities(app, "sales1", "湖州测试茶叶有限公司")
    c = login("sales1")
    html = c.get(f"/sales/opportunities?customer={theirs}", headers=EN).get_data(as_text=True)
    assert "Choose from the list: that record is not available." in html
    assert "湖州测试竹业" not in html
    assert "湖州测试茶叶有限公司商机" in html  # the filter was left off, not applied
    typed = c.get(
        "/sales/opportunities", query_string={"customer-q": "湖州测试竹业"}, headers=EN
    ).get_data(as_text=True)
    assert "Nothing matches “湖州测试竹业”" in typed
    found = c.get("/pick/opportunity_customers?q=湖州测试", htmx=True).get_data(as_text=True)
    assert f'data-value="{mine}"' in found and f'data-value="{theirs}"' not in found


def test_many_owners_make_the_owner_filter_a_picker_that_finds_a_typed_name(app, login):
    grow(app)
    c = login("manager")
    page = c.get("/sales/opportunities", headers=EN).get_data(as_text=True)
    assert '<select id="f-owner"' not in page and 'name="owner-q"' in page
    html = c.get(
        "/sales/opportunities", query_string={"owner-q": "业务测试员007"}, headers=EN
    ).get_data(as_text=True)
    assert opportunity_titles(html) and all(
        t.startswith("测试商机") for t in opportunity_titles(html)
    )
    assert 'name="owner-q" value="业务测试员007"' in html
    # the same on the board and the customer list
    board = c.get("/sales/pipeline", query_string={"owner-q": "业务测试员007"}, headers=EN)
    assert board.status_code == 200 and 'name="owner-q" value="业务测试员007"' in board.get_data(
        as_text=True
    )
    customers = c.get(
        "/sales/customers/", query_string={"owner-q": "业务测试员007"}, headers=EN
    ).get_data(as_text=True)
    assert "新业务员测试客户007有限公司" in customers and "张伟测试客户" not in customers


def test_few_records_stay_a_select(app, login):
    """The demo's handful of owners and contacts: plain selects, as before."""
    html = login("manager").get("/sales/opportunities", headers=EN).get_data(as_text=True)
    assert '<select id="f-owner" name="owner"' in html
    assert 'name="customer-q"' in html  # customers are always searched


def contract_form(customer_id: int, **over) -> dict:
    day = date(2026, 12, 7)
    data = {
        "customer_id": str(customer_id),
        "opportunity_id": "",
        "title": "测试选择器合同",
        "tax_rate": "13",
        "lines-0-product_id": "",
        "lines-0-product_id-q": "",
        "lines-0-filled_from": "",
        "lines-0-name": "",
        "lines-0-specification": "",
        "lines-0-unit": "",
        "lines-0-quantity": "2",
        "lines-0-unit_price": "",
        "deliveries-0-planned_date": day.replace(month=12, day=28).isoformat(),
        "deliveries-0-description": "全部交付",
        "instalments-0-planned_date": day.replace(day=20).isoformat(),
        "instalments-0-amount": "",
        "instalments-0-description": "全款",
        "payment_method": "银行转账",
        "after_sales_terms": "保修一年",
        "other_terms": "",
        "action": "save",
    }
    data.update(over)
    return data


@pytest.fixture
def catalogue(app):
    with app.app_context():
        rows = [
            Product(code=f"PK-{i}", name=f"测试投影仪{i}", unit="台", list_price=Decimal("4200.00"))
            for i in (1, 2)
        ]
        gone = Product(code="PK-OLD", name="测试停产投影仪", unit="台", list_price=Decimal("1"))
        gone.archived_at = clock_now()
        db.session.add_all([*rows, gone])
        db.session.commit()
        return [p.id for p in rows] + [gone.id]


def clock_now():
    from mktapp.core import clock

    return clock.now()


def rep_customer(app) -> int:
    (cid,) = customers_with_opportunities(app, "sales1", "丽水测试合同客户有限公司")
    return cid


def contracts(app) -> int:
    from sqlalchemy import func

    with app.app_context():
        return db.session.scalar(select(func.count(Contract.id)))


def test_a_contract_line_product_typed_without_javascript_fills_the_row(app, login, catalogue):
    cid = rep_customer(app)
    c = login("sales1")
    html = c.get(f"/contracts/new?customer_id={cid}", headers=EN).get_data(as_text=True)
    assert 'name="lines-0-product_id-q"' in html and "/pick/products" in html
    assert '<select id="lines-0-product_id"' not in html
    # "Add a line" posts the form back: the typed product is looked up and fills its row
    added = c.post(
        f"/contracts/new?customer_id={cid}",
        data=contract_form(cid, action="add_line", **{"lines-0-product_id-q": "PK-1"}),
        headers=EN,
    ).get_data(as_text=True)
    assert 'name="lines-0-name" type="text" value="测试投影仪1"' in added or (
        'value="测试投影仪1"' in added and 'value="4200.00"' in added
    )
    assert f'<input type="hidden" name="lines-0-product_id" value="{catalogue[0]}"' in added
    assert 'name="lines-1-product_id-q"' in added
    # saving with the product typed links the line to it
    before = contracts(app)
    saved = c.post(
        f"/contracts/new?customer_id={cid}",
        data=contract_form(
            cid,
            **{
                "lines-0-product_id-q": "测试投影仪2",
                "lines-0-name": "测试投影仪2",
                "lines-0-unit_price": "4200",
                "instalments-0-amount": "9492",
            },
        ),
    )
    assert saved.status_code == 303
    assert contracts(app) == before + 1
    from mktapp.models import ContractLine

    with app.app_context():
        line = db.session.scalars(select(ContractLine).order_by(ContractLine.id.desc())).first()
        assert line.product_id == catalogue[1]


@pytest.mark.parametrize(
    "over",
    [
        {"lines-0-product_id": "archived"},  # replaced by the archived product's id below
        {"lines-0-product_id": "99999999"},
        {"lines-0-product_id": "<b>1</b>"},
        {"lines-0-product_id-q": "<script>x</script>"},
        {"lines-0-product_id-q": "' OR 1=1 --"},
        {"lines-0-product_id-q": "测试投影仪"},  # two match
    ],
)
def test_a_product_not_in_the_catalogue_is_a_field_error_and_nothing_is_saved(
    app, login, catalogue, over
):
    cid = rep_customer(app)
    if over.get("lines-0-product_id") == "archived":
        over = {"lines-0-product_id": str(catalogue[2])}
    before = contracts(app)
    data = contract_form(cid, **{"lines-0-name": "投影仪", "lines-0-unit_price": "4200"}, **over)
    if "lines-0-product_id-q" not in over:
        del data["lines-0-product_id-q"]  # an id posted alone (a script): checked as it is
    response = login("sales1").post(f"/contracts/new?customer_id={cid}", data=data, headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="lines-0-product_id-error"' in html
    assert "<script>x" not in html and "<b>1</b>" not in html
    assert contracts(app) == before


def test_a_follow_up_takes_only_a_contact_of_its_customer(app, login):
    from sqlalchemy import func

    from mktapp.models.sales import Interaction

    mine, other = customers_with_opportunities(
        app, "sales1", "金华测试火腿有限公司", "金华测试五金有限公司"
    )
    with app.app_context():
        db.session.add_all(
            [Contact(customer_id=mine, name="吴经理"), Contact(customer_id=other, name="郑经理")]
        )
        db.session.commit()
        theirs = db.session.scalar(select(Contact.id).where(Contact.name == "郑经理"))
        own = db.session.scalar(select(Contact.id).where(Contact.name == "吴经理"))

    def interactions() -> int:
        with app.app_context():
            return db.session.scalar(
                select(func.count(Interaction.id)).where(Interaction.customer_id == mine)
            )

    c = login("sales1")
    page = c.get(f"/sales/customers/{mine}", headers=EN).get_data(as_text=True)
    assert re.search(r'<select id="contact_id" name="contact_id"[^>]*>\s*<option value="">', page)
    base = {"kind": "call", "happened_at": "2026-12-07T09:30", "notes": "电话沟通"}
    for bad in (str(theirs), "abc"):
        response = c.post(
            f"/sales/customers/{mine}/followups", data={**base, "contact_id": bad}, headers=EN
        )
        assert response.status_code == 422
        assert "Choose a contact of this customer." in response.get_data(as_text=True)
    assert interactions() == 0
    ok = c.post(f"/sales/customers/{mine}/followups", data={**base, "contact_id": str(own)})
    assert ok.status_code == 303 and interactions() == 1
    # the contacts source answers only within a customer one may see
    found = c.get(f"/pick/contacts?scope={mine}&q=经理", htmx=True).get_data(as_text=True)
    assert f'data-value="{own}"' in found and f'data-value="{theirs}"' not in found
    for scope in ("", "x", "' OR 1=1 --", "999999"):
        empty = c.get("/pick/contacts", query_string={"scope": scope, "q": ""}, htmx=True)
        assert empty.status_code == 200 and "data-value" not in empty.get_data(as_text=True)
    (hidden,) = customers_with_opportunities(app, "sales2", "金华测试别人有限公司")
    with app.app_context():
        db.session.add(Contact(customer_id=hidden, name="王经理"))
        db.session.commit()
    blocked = c.get(f"/pick/contacts?scope={hidden}&q=", htmx=True).get_data(as_text=True)
    assert "data-value" not in blocked


def test_many_contacts_make_the_follow_up_contact_a_picker(app, login):
    big = grow(app)
    c = login("sales1")
    page = c.get(f"/sales/customers/{big}", headers=EN).get_data(as_text=True)
    assert 'name="contact_id-q"' in page and f"/pick/contacts?field=contact_id&amp;scope={big}" in (
        page
    )
    response = c.post(
        f"/sales/customers/{big}/followups",
        data={
            "kind": "call",
            "happened_at": "2026-12-07T09:30",
            "notes": "约了下周拜访",
            "contact_id": "",
            "contact_id-q": "联系人007",
        },
    )
    assert response.status_code == 303
    from mktapp.models.sales import Interaction

    with app.app_context():
        saved = db.session.scalars(select(Interaction).where(Interaction.customer_id == big)).one()
        assert saved.contact.name == "联系人007"


def test_a_customer_is_handed_to_a_rep_typed_by_name_once_there_are_many(app, login):
    grow(app)
    (cid,) = customers_with_opportunities(app, "sales1", "衢州测试交接有限公司")
    c = login("manager")
    page = c.get(f"/sales/customers/{cid}", headers=EN).get_data(as_text=True)
    assert 'name="owner_id-q"' in page and "/pick/sales_reps" in page
    bad = c.post(f"/sales/customers/{cid}/assign", data={"owner_id-q": "市场测试员003"}, headers=EN)
    assert bad.status_code == 422  # a market specialist is no sales rep
    assert "Nothing matches" in bad.get_data(as_text=True)
    ok = c.post(f"/sales/customers/{cid}/assign", data={"owner_id-q": "业务测试员003"})
    assert ok.status_code == 303
    with app.app_context():
        assert db.session.get(Customer, cid).owner.display_name == "业务测试员003"


def test_phone_answers_keep_to_customers_the_user_may_see(app, login):
    from sqlalchemy import func

    from mktapp.models import Survey, SurveyResponse

    with app.app_context():
        survey = db.session.scalars(select(Survey).where(Survey.status == "open")).first()
        survey_id = survey.id
    (theirs,) = customers_with_opportunities(app, "sales2", "台州测试回访有限公司")
    c = login("market1")
    page = c.get(f"/research/surveys/{survey_id}/responses/new", headers=EN).get_data(as_text=True)
    assert 'name="customer_id-q"' in page and "/pick/customers" in page

    def responses() -> int:
        with app.app_context():
            return db.session.scalar(select(func.count(SurveyResponse.id)))

    before = responses()
    for bad in ({"customer_id": "abc"}, {"customer_id-q": "<i>没有这个客户</i>"}):
        response = c.post(
            f"/research/surveys/{survey_id}/responses/new",
            data={"respondent": "李先生", **bad},
            headers=EN,
        )
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert 'id="customer_id-error"' in html and "<i>没有" not in html
    assert responses() == before
    assert theirs  # market1 sees every customer (hands leads out): found by name below
    found = c.get("/pick/customers?q=台州测试回访", htmx=True).get_data(as_text=True)
    assert f'data-value="{theirs}"' in found


def test_colleagues_for_research_and_for_tasks_are_found_by_name_once_there_are_many(app, login):
    from datetime import timedelta

    from sqlalchemy import func

    from mktapp.core import clock
    from mktapp.models import ResearchAssignment, ResearchPlan
    from mktapp.models.brand import Activity, ActivityTask

    grow(app)
    with app.app_context():
        plan_id = db.session.scalar(select(ResearchPlan.id).where(ResearchPlan.status == "draft"))
        owner = db.session.scalar(select(User).where(User.username == "market1"))
        start = clock.today() + timedelta(days=30)
        activity = Activity(
            number="HD-2026-9901",
            kind="expo",
            theme="选择器测试展",
            start_on=start,
            end_on=start + timedelta(days=1),
            status="approved",
            owner_id=owner.id,
            place="杭州",
        )
        db.session.add(activity)
        db.session.commit()
        activity_id = activity.id
    c = login("manager")
    # a research plan's staff: the market group, found by name
    page = c.get(f"/research/plans/{plan_id}", headers=EN).get_data(as_text=True)
    assert 'name="user_id-q"' in page and "/pick/research_staff" in page
    wrong = c.post(
        f"/research/plans/{plan_id}/staff",
        data={"user_id-q": "业务测试员001", "task": "访谈"},  # a sales rep: not offered
        headers=EN,
    )
    assert wrong.status_code == 422 and "Nothing matches" in wrong.get_data(as_text=True)
    ok = c.post(
        f"/research/plans/{plan_id}/staff", data={"user_id-q": "市场测试员001", "task": "访谈"}
    )
    assert ok.status_code in (200, 303)
    with app.app_context():
        assert db.session.scalar(
            select(func.count(ResearchAssignment.id))
            .join(User, User.id == ResearchAssignment.user_id)
            .where(ResearchAssignment.plan_id == plan_id, User.display_name == "市场测试员001")
        )
    # an activity's task: its owner among the activity's people and the market group
    tasks = c.get(f"/brand/activities/{activity_id}/tasks", headers=EN).get_data(as_text=True)
    assert 'name="task-owner_id-q"' in tasks
    assert f"/pick/task_owners?field=task-owner_id&amp;scope={activity_id}" in tasks
    added = c.post(
        f"/brand/activities/{activity_id}/tasks",
        data={"task-title": "展位搭建", "task-owner_id-q": "市场测试员002"},
    )
    assert added.status_code in (200, 303)
    with app.app_context():
        task = db.session.scalars(
            select(ActivityTask).where(ActivityTask.activity_id == activity_id)
        ).one()
        assert task.owner.display_name == "市场测试员002"
    # a scope the user may not see, or nonsense, finds nobody
    for scope in ("0", "abc", "999999"):
        found = c.get(f"/pick/task_owners?scope={scope}&q=测试", htmx=True)
        assert found.status_code == 200 and "data-value" not in found.get_data(as_text=True)
