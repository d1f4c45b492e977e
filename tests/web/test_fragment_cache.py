"""Cached list rows (core/fragments.py): a change made anywhere shows on the next request,
and readers with different record rules never share rows."""

from __future__ import annotations

from sqlalchemy import select, update

from mktapp.core import fragments
from mktapp.extensions import db
from mktapp.models import DataVersion, Group, User


def test_renaming_someone_shows_in_the_directory_at_once(app, login, demo):
    client = login("sales1")
    assert "试改名者甲" not in client.get("/org/users").get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, demo["sales2"])
        user.display_name = "试改名者甲"
        db.session.commit()
    assert "试改名者甲" in client.get("/org/users").get_data(as_text=True)


def test_a_bulk_update_and_a_group_rename_also_count_as_changes(app, login, demo):
    client = login("manager")
    client.get("/org/users")
    with app.app_context():
        db.session.execute(
            update(User).where(User.id == demo["sales3"]).values(phone="139-9999-0001")
        )
        group = db.session.scalars(select(Group).where(Group.code == "sales")).one()
        group.name = "华东业务组"
        db.session.commit()
    page = client.get("/org/users").get_data(as_text=True)
    assert "139-9999-0001" in page
    assert "华东业务组" in page


def test_the_htmx_fragment_and_the_page_show_the_same_rows(login):
    client = login("market1")
    full = client.get("/org/users?q=sales").get_data(as_text=True)
    part = client.get("/org/users?q=sales", htmx=True).get_data(as_text=True)
    assert part.strip().startswith('<div id="user_rows"')
    assert part.strip() in full


def test_a_version_starts_at_the_clock_and_moves_by_one(app):
    with app.app_context():
        fragments.bump(db.session.connection(), ["probe"])
        first = db.session.scalar(select(DataVersion.version).where(DataVersion.name == "probe"))
        fragments.bump(db.session.connection(), ["probe"])
        db.session.commit()
        assert fragments.versions(["probe", "never"]) == (first + 1, 0)
        assert first > 1_600_000_000_000  # milliseconds, not 1


def test_readers_with_different_record_rules_get_different_scopes(app, demo):
    from mktapp.models import ExpenseClaim

    with app.test_request_context():
        sales1 = db.session.get(User, demo["sales1"])
        sales2 = db.session.get(User, demo["sales2"])
        manager = db.session.get(User, demo["manager"])
        finance = db.session.get(User, demo["finance1"])
        scopes = {
            name: fragments.scope_of(u, ExpenseClaim)
            for name, u in [("s1", sales1), ("s2", sales2), ("m", manager), ("f", finance)]
        }
    assert scopes["s1"] != scopes["s2"]
    assert scopes["m"] == scopes["f"]  # both see every claim


def test_a_new_claim_shows_in_the_claims_list_and_its_totals_at_once(app, login, demo):
    from tests.web.test_expense_claims_pages import make_claim

    finance = login("finance1")
    make_claim(app, "sales1", "paid", amount="10.00", reason="第一笔快递费")
    first = finance.get("/expense/claims").get_data(as_text=True)
    assert "第一笔快递费" in first
    make_claim(app, "sales2", "paid", amount="20.00", reason="第二笔快递费")
    second = finance.get("/expense/claims").get_data(as_text=True)
    assert "第二笔快递费" in second and "30.00" in second


def test_my_claims_are_never_shown_to_someone_else(app, login, demo):
    from tests.web.test_expense_claims_pages import make_claim

    make_claim(app, "sales1", "draft", reason="只属于业务员一")
    assert "只属于业务员一" in login("sales1").get("/expense/claims/mine").get_data(as_text=True)
    other = login("sales2").get("/expense/claims/mine").get_data(as_text=True)
    assert "只属于业务员一" not in other


def test_imported_and_edited_customers_show_in_the_customer_list_at_once(app, login, demo):
    from mktapp.models import Customer

    manager = login("manager")
    assert "缓存测试客户甲" not in manager.get("/sales/customers/").get_data(as_text=True)
    with app.app_context():
        db.session.add(Customer(name="缓存测试客户甲", name_key="缓存测试客户甲"))
        db.session.commit()
    assert "缓存测试客户甲" in manager.get("/sales/customers/").get_data(as_text=True)


def test_an_import_shows_in_the_pool_that_was_open_before_it(login):
    """The import writes by Core inserts (no ORM events) and moves the version itself."""
    from tests.web.test_sales_customers_import import TOKEN, upload, workbook

    c = login("market1")
    assert "缓存导入测试有限公司" not in c.get("/sales/customers/pool").get_data(as_text=True)
    response = upload(
        c,
        workbook([("缓存导入测试有限公司", "周敏", "13700009999", "浙江", "宁波", "")]),
        "卡.xlsx",
    )
    token = TOKEN.search(response.headers["Location"]).group(1)
    form = {
        "col0": "name",
        "col1": "contact_name",
        "col2": "phone",
        "col3": "province",
        "col4": "city",
        "col5": "notes",
        "source": "fair",
        "source_detail": "",
        "owner_id": "",
    }
    assert c.post(f"/sales/customers/import/{token}/run", data=form).status_code == 303
    assert "缓存导入测试有限公司" in c.get("/sales/customers/pool").get_data(as_text=True)


def test_with_the_cache_off_every_request_renders_the_rows_anew(app, login, monkeypatch):
    """MKTAPP_FRAGMENT_CACHE=0 (what bench/ measures against): nothing is kept."""
    monkeypatch.setitem(app.config, "FRAGMENT_CACHE", False)
    fragments.clear()
    client = login("manager")
    first = client.get("/org/users", htmx=True).get_data(as_text=True)
    assert "user_rows" in first
    assert not fragments._store
    # The rows alone: the whole page carries a CSRF token that changes with the second.
    assert client.get("/org/users", htmx=True).get_data(as_text=True) == first
    assert not fragments._store
