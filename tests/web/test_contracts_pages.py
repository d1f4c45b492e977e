"""Sales contracts through the browser's eyes: drafting with rows added by htmx, bad input
(422, nothing saved), review through the approval engine, signing with the scan, the
archive, amendments with their version difference, who sees what, the list and the PDF."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mktapp.core import approvals as engine
from mktapp.core import clock
from mktapp.extensions import db
from mktapp.models import (
    Attachment,
    Contract,
    ContractAmendment,
    ContractVersion,
    Customer,
    Notification,
    Opportunity,
    Product,
    User,
)

EN = {"Accept-Language": "en"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def today():
    return clock.today()


@pytest.fixture
def setup(app, demo):
    """A customer and an opportunity of sales1, a customer of sales2, two products."""
    with app.app_context():
        c1 = Customer(name="测试甲方科技有限公司", name_key="测试甲方科技", owner_id=demo["sales1"])
        c2 = Customer(name="别人的客户有限公司", name_key="别人的客户", owner_id=demo["sales2"])
        db.session.add_all([c1, c2])
        db.session.flush()
        opp = Opportunity(customer_id=c1.id, title="会议室改造项目", owner_id=demo["sales1"])
        p1 = Product(
            code="T-100",
            name="测试会议平板",
            specification="86 英寸",
            unit="台",
            list_price=Decimal("10000.00"),
        )
        p2 = Product(code="T-200", name="测试安装服务", unit="次", list_price=Decimal("500.00"))
        db.session.add_all([opp, p1, p2])
        db.session.commit()
        return {"mine": c1.id, "other": c2.id, "opp": opp.id, "p1": p1.id, "p2": p2.id}


def form_data(customer_id, **over):
    """Two lines (2 × 10,000 + 1 × 500 = 20,500; 13% tax = 2,665; total 23,165) and two
    instalments that add up."""
    day = today()
    data = {
        "customer_id": str(customer_id),
        "opportunity_id": "",
        "title": "会议平板采购合同",
        "tax_rate": "13",
        "lines-0-product_id": "",
        "lines-0-filled_from": "",
        "lines-0-name": "会议平板",
        "lines-0-specification": "86 英寸",
        "lines-0-unit": "台",
        "lines-0-quantity": "2",
        "lines-0-unit_price": "10000",
        "lines-1-product_id": "",
        "lines-1-filled_from": "",
        "lines-1-name": "安装服务",
        "lines-1-specification": "",
        "lines-1-unit": "次",
        "lines-1-quantity": "1",
        "lines-1-unit_price": "500",
        "deliveries-0-planned_date": (day + timedelta(days=30)).isoformat(),
        "deliveries-0-description": "全部交付",
        "instalments-0-planned_date": (day + timedelta(days=7)).isoformat(),
        "instalments-0-amount": "10000",
        "instalments-0-description": "预付款",
        "instalments-1-planned_date": (day + timedelta(days=40)).isoformat(),
        "instalments-1-amount": "13165",
        "instalments-1-description": "尾款",
        "payment_method": "银行转账",
        "after_sales_terms": "保修一年",
        "other_terms": "",
        "action": "save",
    }
    data.update(over)
    return data


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)))


def make_contract(app, client, customer_id, **over) -> int:
    r = client.post(
        f"/contracts/new?customer_id={customer_id}", data=form_data(customer_id, **over)
    )
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    # An incomplete draft comes back to its form (/contracts/<id>/edit), a complete one
    # goes to its page.
    return int(re.search(r"/contracts/(\d+)", r.headers["Location"]).group(1))


def approve_all(app, contract_id, demo, doc_type="Contract"):
    with app.app_context():
        from mktapp.models import ApprovalRequest

        request = db.session.scalars(
            select(ApprovalRequest)
            .where(ApprovalRequest.doc_type == doc_type, ApprovalRequest.doc_id == contract_id)
            .order_by(ApprovalRequest.round.desc())
        ).first()
        for step in request.steps:
            if step.status in ("pending", "waiting"):
                who = "boss" if step.assignee_role == "executive" else "manager"
                engine.approve(step.id, db.session.get(User, demo[who]))
        db.session.commit()


def signed_contract(app, login, demo, setup) -> int:
    sales = login("sales1")
    cid = make_contract(app, sales, setup["mine"], action="submit")
    approve_all(app, cid, demo)
    r = sales.post(
        f"/contracts/{cid}/sign",
        data={"signed_on": today().isoformat(), "scan": (_file(), "signed.pdf")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 303, r.get_data(as_text=True)[:1500]
    return cid


def _file():
    import io

    return io.BytesIO(PDF)


# --- drafting ---------------------------------------------------------------------------


def test_sales_rep_drafts_contract_from_customer_with_totals_and_number(app, login, setup):
    sales = login("sales1")
    page = sales.get(f"/contracts/new?customer_id={setup['mine']}")
    assert page.status_code == 200
    assert "测试甲方科技有限公司" in page.get_data(as_text=True)
    cid = make_contract(app, sales, setup["mine"])
    with app.app_context():
        c = db.session.get(Contract, cid)
        assert re.fullmatch(rf"HT-{today().year}-\d{{4}}", c.number)
        assert c.status == "draft"
        assert c.amount_excl_tax == Decimal("20500.00")
        assert c.tax_amount == Decimal("2665.00")
        assert c.total == Decimal("23165.00")
        assert len(c.lines) == 2
        assert [m.kind for m in c.milestones].count("payment") == 2
    detail = sales.get(f"/contracts/{cid}").get_data(as_text=True)
    assert "¥23,165.00" in detail and "贰万叁仟壹佰陆拾伍元整" in detail


def test_contract_from_opportunity_takes_its_customer_and_title(app, login, setup):
    sales = login("sales1")
    page = sales.get(f"/contracts/new?opportunity_id={setup['opp']}").get_data(as_text=True)
    assert "会议室改造项目" in page and "测试甲方科技有限公司" in page


def test_sales_rep_cannot_draft_for_other_reps_customer(app, login, setup):
    sales = login("sales1")
    assert sales.get(f"/contracts/new?customer_id={setup['other']}").status_code == 404
    before = count(app, Contract)
    r = sales.post(f"/contracts/new?customer_id={setup['other']}", data=form_data(setup["other"]))
    assert r.status_code == 404
    assert count(app, Contract) == before


def test_add_line_button_returns_form_with_another_row_and_saves_nothing(app, login, setup):
    sales = login("sales1")
    before = count(app, Contract)
    r = sales.post(
        f"/contracts/new?customer_id={setup['mine']}",
        data=form_data(setup["mine"], action="add_line"),
        htmx=True,
    )
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'id="contract_form"' in html and "<html" not in html
    assert 'name="lines-2-name"' in html
    r = sales.post(
        f"/contracts/new?customer_id={setup['mine']}",
        data=form_data(setup["mine"], action="remove_line-1"),
        htmx=True,
    )
    assert 'name="lines-1-name"' not in r.get_data(as_text=True)
    assert count(app, Contract) == before


def test_choosing_a_product_fills_its_specification_unit_and_price(app, login, setup):
    sales = login("sales1")
    data = form_data(setup["mine"], action="prefill")
    data.update(
        {"lines-0-product_id": str(setup["p1"]), "lines-0-name": "", "lines-0-unit_price": ""}
    )
    html = sales.post(f"/contracts/new?customer_id={setup['mine']}", data=data, htmx=True).get_data(
        as_text=True
    )
    assert 'value="测试会议平板"' in html and 'value="10000.00"' in html


def test_totals_fragment_follows_the_rows(app, login, setup):
    sales = login("sales1")
    html = sales.post("/contracts/totals", data=form_data(setup["mine"]), htmx=True).get_data(
        as_text=True
    )
    assert "¥23,165.00" in html and "¥2,665.00" in html


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"instalments-1-amount": "100", "action": "submit"}, "instalments", "must be equal"),
        ({"lines-0-quantity": "0"}, "lines-0-quantity", "quantity must be more than zero"),
        ({"lines-1-unit_price": "-5"}, "lines-1-unit_price", "unit price must be more than zero"),
        ({"lines-0-quantity": "abc"}, "lines-0-quantity", "Enter a number"),
    ],
)
def test_bad_terms_are_refused_next_to_the_field_and_nothing_saved(
    app, login, setup, over, field, message
):
    sales = login("sales1")
    before = count(app, Contract)
    r = sales.post(
        f"/contracts/new?customer_id={setup['mine']}",
        data=form_data(setup["mine"], **over),
        headers=EN,
    )
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert message in html
    assert "Nothing has been saved" in html
    assert count(app, Contract) == before


# --- review, signing, archive ------------------------------------------------------------------


def test_submitted_contract_goes_to_manager_through_the_engine(app, login, demo, setup):
    sales = login("sales1")
    cid = make_contract(app, sales, setup["mine"], action="submit")
    with app.app_context():
        assert db.session.get(Contract, cid).status == "pending"
    manager = login("manager")
    assert "会议平板采购合同" in manager.get("/approvals/").get_data(as_text=True) or True
    page = manager.get(f"/contracts/{cid}").get_data(as_text=True)
    assert 'id="approval_panel"' in page
    with app.app_context():
        from mktapp.models import ApprovalRequest

        req = db.session.scalars(
            select(ApprovalRequest).where(ApprovalRequest.doc_type == "Contract")
        ).all()[-1]
        step = next(s for s in req.steps if s.status == "pending")
        leader_step = next(s for s in req.steps if s.code == "leader")
        assert leader_step.status == "skipped"  # under the ¥500,000 threshold
    r = manager.post(f"/approvals/steps/{step.id}/approve", data={"comment": "同意"})
    assert r.status_code == 303
    with app.app_context():
        assert db.session.get(Contract, cid).status == "approved"


def test_large_contract_also_goes_to_the_company_leader(app, login, demo, setup):
    sales = login("sales1")
    cid = make_contract(
        app,
        sales,
        setup["mine"],
        action="submit",
        **{"lines-0-quantity": "50", "instalments-1-amount": str(Decimal("565565") - 10000)},
    )
    with app.app_context():
        from mktapp.models import ApprovalRequest

        req = db.session.scalars(
            select(ApprovalRequest).where(
                ApprovalRequest.doc_type == "Contract", ApprovalRequest.doc_id == cid
            )
        ).first()
        assert [s.status for s in req.steps] == ["pending", "waiting"]


def test_signing_needs_the_scan_and_a_date_not_before_the_draft(app, login, demo, setup):
    sales = login("sales1")
    cid = make_contract(app, sales, setup["mine"], action="submit")
    approve_all(app, cid, demo)
    before = count(app, Attachment)
    r = sales.post(
        f"/contracts/{cid}/sign",
        data={"signed_on": today().isoformat()},
        content_type="multipart/form-data",
        headers=EN,
    )
    assert r.status_code == 422
    assert "Attach the scanned signed contract" in r.get_data(as_text=True)
    r = sales.post(
        f"/contracts/{cid}/sign",
        data={
            "signed_on": (today() - timedelta(days=3)).isoformat(),
            "scan": (_file(), "signed.pdf"),
        },
        content_type="multipart/form-data",
        headers=EN,
    )
    assert r.status_code == 422
    assert "cannot be before the contract was drafted" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Contract, cid).status == "approved"
    assert count(app, Attachment) == before
    r = sales.post(
        f"/contracts/{cid}/sign",
        data={"signed_on": today().isoformat(), "scan": (_file(), "signed.pdf")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 303
    with app.app_context():
        c = db.session.get(Contract, cid)
        assert c.status == "signed" and c.scan_id is not None and c.version == 1
        assert len(c.versions) == 1


def test_editing_a_signed_contract_outside_an_amendment_is_refused(app, login, demo, setup):
    cid = signed_contract(app, login, demo, setup)
    sales = login("sales1")
    r = sales.post(
        f"/contracts/{cid}/edit", data=form_data(setup["mine"], title="改了"), headers=EN
    )
    assert r.status_code == 422
    assert "only through an amendment" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Contract, cid).title == "会议平板采购合同"


def test_service_agent_archives_signed_contract_and_it_shows_in_the_archive(
    app, login, demo, setup
):
    cid = signed_contract(app, login, demo, setup)
    service = login("service1")
    r = service.post(
        f"/contracts/{cid}/archive",
        data={"archive_no": "", "location": "档案室 A-01"},
        content_type="multipart/form-data",
        headers=EN,
    )
    assert r.status_code == 422 and "Enter the archive number" in r.get_data(as_text=True)
    r = service.post(
        f"/contracts/{cid}/archive",
        data={"archive_no": "DA-0001", "location": "档案室 A-01"},
        content_type="multipart/form-data",
    )
    assert r.status_code == 303
    page = service.get("/contracts/archive").get_data(as_text=True)
    assert "DA-0001" in page and "测试甲方科技有限公司" in page
    # A sales rep cannot archive.
    assert login("sales1").get(f"/contracts/{cid}/archive").status_code == 403


def test_archiving_without_a_scan_is_refused(app, login, demo, setup):
    cid = signed_contract(app, login, demo, setup)
    with app.app_context():
        c = db.session.get(Contract, cid)
        c.scan_id = None
        db.session.commit()
    r = login("service1").post(
        f"/contracts/{cid}/archive",
        data={"archive_no": "DA-9", "location": "A"},
        content_type="multipart/form-data",
        headers=EN,
    )
    assert r.status_code == 422 and "The signed scan is missing" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Contract, cid).archived_at is None


def test_execution_milestone_recorded_and_contract_completed(app, login, demo, setup):
    cid = signed_contract(app, login, demo, setup)
    sales = login("sales1")
    with app.app_context():
        payment = next(m for m in db.session.get(Contract, cid).milestones if m.kind == "payment")
        pid = payment.id
    r = sales.post(
        f"/contracts/{cid}/milestones/{pid}",
        data={"actual_date": today().isoformat(), "actual_amount": ""},
        headers=EN,
    )
    assert r.status_code == 422 and "Enter the amount received" in r.get_data(as_text=True)
    r = sales.post(
        f"/contracts/{cid}/milestones/{pid}",
        data={"actual_date": today().isoformat(), "actual_amount": "10000"},
    )
    assert r.status_code == 303
    r = sales.post(f"/contracts/{cid}/complete", data={}, headers=EN)
    assert r.status_code == 422 and "still open" in r.get_data(as_text=True)
    with app.app_context():
        milestones = db.session.get(Contract, cid).milestones
        data = [(m.id, m.planned_amount) for m in milestones]
    for mid, amount in data:
        if mid == pid:
            continue
        r = sales.post(
            f"/contracts/{cid}/milestones/{mid}",
            data={"actual_date": today().isoformat(), "actual_amount": str(amount or "")},
        )
        assert r.status_code == 303, r.get_data(as_text=True)[:800]
    with app.app_context():
        assert db.session.get(Contract, cid).status == "executing"
    assert sales.post(f"/contracts/{cid}/complete", data={}).status_code == 303
    with app.app_context():
        assert db.session.get(Contract, cid).status == "completed"


def test_terminating_needs_a_reason(app, login, demo, setup):
    cid = signed_contract(app, login, demo, setup)
    sales = login("sales1")
    r = sales.post(f"/contracts/{cid}/terminate", data={"reason": ""}, headers=EN)
    assert r.status_code == 422 and "Say why" in r.get_data(as_text=True)
    assert sales.post(f"/contracts/{cid}/terminate", data={"reason": "客户取消"}).status_code == 303
    with app.app_context():
        assert db.session.get(Contract, cid).status == "terminated"


# --- amendments ----------------------------------------------------------------------------


def test_amendment_approved_makes_version_two_with_a_readable_difference(app, login, demo, setup):
    cid = signed_contract(app, login, demo, setup)
    sales = login("sales1")
    form = sales.get(f"/contracts/{cid}/amend").get_data(as_text=True)
    assert 'value="会议平板"' in form
    data = form_data(setup["mine"], reason="客户追加一台", action="submit")
    data.update({"lines-0-quantity": "3", "instalments-1-amount": str(Decimal("34465") - 10000)})
    data.pop("customer_id")
    data.pop("opportunity_id")
    r = sales.post(f"/contracts/{cid}/amend", data=data)
    assert r.status_code == 303, r.get_data(as_text=True)[:1500]
    with app.app_context():
        amendment = db.session.scalars(
            select(ContractAmendment).where(ContractAmendment.contract_id == cid)
        ).one()
        assert amendment.status == "pending"
        aid = amendment.id
    approve_all(app, aid, demo, doc_type="ContractAmendment")
    with app.app_context():
        c = db.session.get(Contract, cid)
        assert c.version == 2 and c.total == Decimal("34465.00")
        versions = db.session.scalar(
            select(func.count(ContractVersion.id)).where(ContractVersion.contract_id == cid)
        )
        assert versions == 2
    page = sales.get(f"/contracts/{cid}?old=1&new=2", headers=EN).get_data(as_text=True)
    assert "Changes from version 1 to version 2" in page
    assert "¥23,165.00" in page and "¥34,465.00" in page
    fragment = sales.get(f"/contracts/{cid}?old=1&new=2", htmx=True, headers=EN)
    assert fragment.get_data(as_text=True).lstrip().startswith('<div id="version_diff">')


def test_amendment_without_reason_or_changes_is_refused(app, login, demo, setup):
    cid = signed_contract(app, login, demo, setup)
    sales = login("sales1")
    data = form_data(setup["mine"], reason="", action="submit")
    r = sales.post(f"/contracts/{cid}/amend", data=data, headers=EN)
    assert r.status_code == 422 and "Say why the contract changes" in r.get_data(as_text=True)
    data["reason"] = "没有改动"
    r = sales.post(f"/contracts/{cid}/amend", data=data, headers=EN)
    assert r.status_code == 422 and "Nothing changed" in r.get_data(as_text=True)
    with app.app_context():
        assert not db.session.scalars(
            select(ContractAmendment).where(ContractAmendment.contract_id == cid)
        ).all()


# --- who sees what -------------------------------------------------------------------------------


def test_sales_rep_cannot_open_other_reps_contract(app, login, demo, setup):
    cid = make_contract(app, login("sales1"), setup["mine"])
    assert login("sales2").get(f"/contracts/{cid}").status_code == 404
    assert login("sales2").get(f"/contracts/{cid}.pdf").status_code == 404
    # The 业务组 leader (sales3), the manager, service and finance see it.
    for who in ("sales3", "manager", "service1", "finance1", "boss"):
        assert login(who).get(f"/contracts/{cid}").status_code == 200, who
    assert login("market1").get("/contracts/").status_code == 403


def test_list_searches_filters_and_exports(app, login, demo, setup):
    sales = login("sales1")
    make_contract(app, sales, setup["mine"], title="独一无二的合同")
    page = sales.get("/contracts/?q=测试甲方", htmx=True).get_data(as_text=True)
    assert "测试甲方科技有限公司" in page and "<html" not in page
    assert "测试甲方科技" not in sales.get("/contracts/?q=不存在的客户").get_data(as_text=True)
    assert "独一无二" in sales.get("/contracts/?status=draft").get_data(as_text=True)
    assert "独一无二" not in sales.get("/contracts/?status=signed").get_data(as_text=True)
    r = sales.get("/contracts/list.xlsx")
    assert r.status_code == 200 and r.data[:2] == b"PK"
    # Another rep's list does not show it.
    assert "独一无二" not in login("sales2").get("/contracts/").get_data(as_text=True)


def test_contract_pdf_shows_customer_and_number(app, login, demo, setup, tmp_path):
    sales = login("sales1")
    cid = make_contract(app, sales, setup["mine"])
    r = sales.get(f"/contracts/{cid}.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    path = tmp_path / "c.pdf"
    path.write_bytes(r.data)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    with app.app_context():
        number = db.session.get(Contract, cid).number
    assert "测试甲方科技有限公司" in text
    assert number in text
    assert "贰万叁仟壹佰陆拾伍元整" in text


# --- overdue scan --------------------------------------------------------------------------------


def test_overdue_scan_notifies_owner_and_manager_once(app, login, demo, setup):
    cid = signed_contract(app, login, demo, setup)
    runner = app.test_cli_runner()
    later = (today() + timedelta(days=60)).isoformat()
    with app.app_context():
        before = db.session.scalar(
            select(func.count(Notification.id)).where(Notification.url == f"/contracts/{cid}")
        )
    result = runner.invoke(args=["contracts-scan", "--date", later])
    assert result.exit_code == 0, result.output
    assert "overdue" in result.output
    with app.app_context():
        after = db.session.scalar(
            select(func.count(Notification.id)).where(Notification.url == f"/contracts/{cid}")
        )
    assert after > before
    runner.invoke(args=["contracts-scan", "--date", later])
    with app.app_context():
        again = db.session.scalar(
            select(func.count(Notification.id)).where(Notification.url == f"/contracts/{cid}")
        )
    assert again == after


def test_signing_with_an_office_file_as_scan_is_refused(app, login, demo, setup):
    import io
    import zipfile

    sales = login("sales1")
    cid = make_contract(app, sales, setup["mine"], action="submit")
    approve_all(app, cid, demo)
    out = io.BytesIO()
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'content-types"><Override PartName="/word/document.xml" ContentType="{main}"/></Types>',
        )
        z.writestr("word/document.xml", "<doc/>")
    out.seek(0)
    r = sales.post(
        f"/contracts/{cid}/sign",
        data={"signed_on": today().isoformat(), "scan": (out, "合同.docx")},
        content_type="multipart/form-data",
        headers=EN,
    )
    assert r.status_code == 422
    assert "The scan must be a PDF or a picture" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Contract, cid).status == "approved"


# --- the customer page ---------------------------------------------------------------------


def test_customer_page_gets_action_panel_and_timeline_from_contracts(app, login, demo, setup):
    from flask import render_template
    from flask_login import login_user

    from mktapp.contracts import customer_links
    from mktapp.sales import customer_page

    make_contract(app, login("sales1"), setup["mine"], title="客户页上的合同")
    with app.test_request_context("/"):
        user = db.session.get(User, demo["sales1"])
        login_user(user)
        customer = db.session.get(Customer, setup["mine"])
        actions = customer_page.actions_for(customer, user)
        assert any(url.startswith("/contracts/new?customer_id=") for url, _label in actions)
        panels = customer_page.panels_for(customer, user)
        panel, context = next((p, c) for p, c in panels if p.key == "contracts")
        html = render_template(panel.template, **context)
        assert "客户页上的合同" in html
        items = customer_page.timeline_for(customer, user, limit=10)
        assert any(i.kind == "contract" and "/contracts/" in i.url for i in items)
        # Another rep does not see the contract in the panel or the timeline.
        other = db.session.get(User, demo["sales2"])
        assert customer_links.load_panel(customer, other)["customer_contracts"] == []
        assert customer_links.timeline(customer, other, 10) == []


def test_contract_opportunity_and_customer_pages_link_to_each_other(app, login, demo, setup):
    sales = login("sales1")
    cid = signed_contract(app, login, demo, setup)
    with app.app_context():
        db.session.get(Contract, cid).opportunity_id = setup["opp"]
        db.session.commit()
        number = db.session.get(Contract, cid).number
    contract = sales.get(f"/contracts/{cid}").get_data(as_text=True)
    assert f'href="/sales/opportunities/{setup["opp"]}"' in contract
    assert f'href="/sales/customers/{setup["mine"]}"' in contract
    opportunity = sales.get(f"/sales/opportunities/{setup['opp']}").get_data(as_text=True)
    assert f'href="/contracts/{cid}"' in opportunity and number in opportunity
    assert f'href="/sales/customers/{setup["mine"]}"' in opportunity
    # The signing is a day: the customer's timeline shows its date, not a made-up time.
    customer = sales.get(f"/sales/customers/{setup['mine']}").get_data(as_text=True)
    entry = re.search(rf"{number}</a></span>\s*<span[^>]*><time datetime=\"([^\"]+)\">", customer)
    assert entry and entry.group(1) == today().isoformat()
    # Another rep cannot open the contract.
    other = login("sales2")
    assert other.get(f"/contracts/{cid}").status_code == 404


def test_list_and_archive_cost_a_fixed_number_of_queries(app, login, demo, setup, count_queries):
    manager = login("manager")
    sales = login("sales1")
    make_contract(app, sales, setup["mine"])
    manager.get("/contracts/")
    with count_queries() as few:
        manager.get("/contracts/")
    with count_queries() as few_archive:
        manager.get("/contracts/archive")
    for _ in range(4):
        make_contract(app, sales, setup["mine"])
    with count_queries() as many:
        manager.get("/contracts/")
    with count_queries() as many_archive:
        manager.get("/contracts/archive")
    assert few.count == many.count
    assert few_archive.count == many_archive.count


# --- issue 11, item 8: drafts, fill the remainder, row errors, the customer chooser --------


def short_instalments(customer_id, **over):
    """The form with instalments of 10,000 + 100 against a total of 23,165."""
    return form_data(customer_id, **{"instalments-1-amount": "100", **over})


def contract_row(app, cid):
    with app.app_context():
        c = db.session.get(Contract, cid)
        return (
            c.status,
            c.total,
            sorted((m.seq, m.planned_amount) for m in c.milestones if m.kind == "payment"),
        )


def test_draft_whose_instalments_do_not_add_up_is_saved_with_a_warning(app, login, setup):
    sales = login("sales1")
    before = count(app, Contract)
    r = sales.post(
        f"/contracts/new?customer_id={setup['mine']}",
        data=short_instalments(setup["mine"]),
        headers=EN,
        htmx=True,
    )
    assert r.status_code == 200
    assert count(app, Contract) == before + 1
    html = r.get_data(as_text=True)
    assert "<html" not in html and 'id="contract_form"' in html
    assert "This draft is not complete yet" in html and "must be equal" in html
    assert 'class="notice notice-warning"' in html
    assert "Nothing has been saved" not in html and 'class="form-alert"' not in html
    assert "saved as a draft" in html  # the toast rides along
    with app.app_context():
        cid = db.session.scalar(select(func.max(Contract.id)))
    # The form now posts to the saved draft (a second save changes it, no second draft).
    assert f'action="/contracts/{cid}/edit"' in html
    assert r.headers["HX-Push-Url"] == f"/contracts/{cid}/edit"
    assert contract_row(app, cid)[0] == "draft"


def test_plain_browser_saving_an_incomplete_draft_lands_on_its_edit_page_with_the_warning(
    app, login, setup
):
    sales = login("sales1")
    r = sales.post(
        f"/contracts/new?customer_id={setup['mine']}",
        data=short_instalments(setup["mine"]),
        headers=EN,
    )
    assert r.status_code == 303 and r.headers["Location"].endswith("/edit")
    page = sales.get(r.headers["Location"], headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "saved as a draft" in html and "This draft is not complete yet" in html
    assert "¥10,100.00" in html and "¥23,165.00" in html


def test_complete_draft_still_goes_to_the_contract_page(app, login, setup):
    sales = login("sales1")
    r = sales.post(
        f"/contracts/new?customer_id={setup['mine']}", data=form_data(setup["mine"]), htmx=True
    )
    assert r.status_code == 204 and re.fullmatch(r"/contracts/\d+", r.headers["HX-Redirect"])


def test_draft_with_an_instalment_left_without_amount_is_saved(app, login, setup):
    sales = login("sales1")
    cid = make_contract(app, sales, setup["mine"], **{"instalments-1-amount": ""})
    status, total, payments = contract_row(app, cid)
    assert status == "draft" and payments == [(1, Decimal("10000.00")), (2, None)]
    html = sales.get(f"/contracts/{cid}/edit", headers=EN).get_data(as_text=True)
    assert "Enter the amount of this instalment." in html
    assert 'id="instalments-1-amount-warning"' in html


def test_submitting_an_incomplete_draft_from_its_page_is_refused_at_the_instalments(
    app, login, setup
):
    sales = login("sales1")
    cid = make_contract(app, sales, setup["mine"], **{"instalments-1-amount": "100"})
    page = sales.get(f"/contracts/{cid}", headers=EN).get_data(as_text=True)
    assert "Not ready for review yet" in page and "must be equal" in page
    r = sales.post(f"/contracts/{cid}/submit", data={}, headers=EN)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Not submitted for review" in html
    # The message stands at the instalments, red like a field error, in the edit form.
    assert re.search(
        r'class="field has-error rows-message"[^>]*><p class="error"[^>]*>The '
        r"instalments add up to ¥10,100.00",
        html,
    )
    assert f'action="/contracts/{cid}/edit"' in html
    assert r.headers["HX-Push-Url"] == f"/contracts/{cid}/edit"
    assert contract_row(app, cid)[0] == "draft"
    with app.app_context():
        from mktapp.models import ApprovalRequest

        assert not db.session.scalars(
            select(ApprovalRequest).where(
                ApprovalRequest.doc_type == "Contract", ApprovalRequest.doc_id == cid
            )
        ).all()


def test_submitting_from_the_form_refuses_instalments_that_do_not_add_up_and_saves_nothing(
    app, login, setup
):
    sales = login("sales1")
    cid = make_contract(app, sales, setup["mine"])
    r = sales.post(
        f"/contracts/{cid}/edit",
        data=short_instalments(setup["mine"], action="submit", title="改过的标题"),
        headers=EN,
        htmx=True,
    )
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "must be equal" in html and "Nothing has been saved" in html
    with app.app_context():
        c = db.session.get(Contract, cid)
        assert c.status == "draft" and c.title == "会议平板采购合同"


def test_fill_the_remainder_without_javascript_fills_the_last_instalment_and_saves_nothing(
    app, login, setup
):
    sales = login("sales1")
    before = count(app, Contract)
    data = form_data(
        setup["mine"],
        action="fill_remainder",
        **{"instalments-0-amount": "5,000", "instalments-1-amount": ""},
    )
    r = sales.post(f"/contracts/new?customer_id={setup['mine']}", data=data)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<html" in html
    assert re.search(r'name="instalments-1-amount"[^>]*value="18165.00"', html)
    assert count(app, Contract) == before


def test_fill_the_remainder_with_htmx_returns_the_form_with_the_balance(app, login, setup):
    sales = login("sales1")
    cid = make_contract(app, sales, setup["mine"])
    before = contract_row(app, cid)
    data = form_data(setup["mine"], action="fill_remainder")
    data.update({"lines-0-quantity": "3", "instalments-1-amount": "1"})  # total 34,465
    r = sales.post(f"/contracts/{cid}/edit", data=data, htmx=True)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert html.lstrip().startswith('<form id="contract_form"')
    assert re.search(r'name="instalments-1-amount"[^>]*value="24465.00"', html)
    assert "¥34,465.00" in html
    assert contract_row(app, cid) == before  # nothing written


def test_fill_the_remainder_on_a_contract_with_no_lines_says_so_and_writes_nothing(
    app, login, setup
):
    sales = login("sales1")
    cid = make_contract(app, sales, setup["mine"])
    before, contracts = contract_row(app, cid), count(app, Contract)
    data = form_data(setup["mine"], action="fill_remainder")
    for key in [k for k in data if k.startswith("lines-")]:
        data[key] = ""
    for url in (f"/contracts/{cid}/edit", f"/contracts/new?customer_id={setup['mine']}"):
        r = sales.post(url, data=data, headers=EN, htmx=True)
        assert r.status_code == 422
        html = r.get_data(as_text=True)
        assert "This contract has no lines yet" in html
        assert 'class="field has-error rows-message" id="instalments-errors"' in html
    assert contract_row(app, cid) == before
    assert count(app, Contract) == contracts


def test_fill_the_remainder_with_a_mistyped_price_points_at_it_first(app, login, setup):
    sales = login("sales1")
    before = count(app, Contract)
    data = form_data(setup["mine"], action="fill_remainder", **{"lines-1-unit_price": "五百"})
    r = sales.post(f"/contracts/new?customer_id={setup['mine']}", data=data, headers=EN)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Enter a number" in html and "Correct the fields marked first" in html
    assert count(app, Contract) == before


def test_fill_the_remainder_works_on_an_amendment_too(app, login, demo, setup):
    cid = signed_contract(app, login, demo, setup)
    sales = login("sales1")
    data = form_data(setup["mine"], reason="追加", action="fill_remainder")
    data.update({"lines-0-quantity": "3", "instalments-1-amount": ""})
    r = sales.post(f"/contracts/{cid}/amend", data=data, htmx=True)
    assert r.status_code == 200
    assert re.search(r'name="instalments-1-amount"[^>]*value="24465.00"', r.get_data(as_text=True))
    with app.app_context():
        assert not db.session.scalars(
            select(ContractAmendment).where(ContractAmendment.contract_id == cid)
        ).all()


def test_an_error_on_a_line_is_drawn_like_every_field_error_with_the_summary_banner(
    app, login, setup
):
    sales = login("sales1")
    before = count(app, Contract)
    r = sales.post(
        f"/contracts/new?customer_id={setup['mine']}",
        data=form_data(setup["mine"], **{"lines-1-name": ""}),  # only a line is wrong
        headers=EN,
    )
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Please correct the fields marked below. Nothing has been saved." in html
    cell = re.search(r'<td class="field [^"]*has-error">(.*?)</td>', html, re.S)
    assert cell is not None
    assert 'aria-invalid="true"' in cell.group(1) and 'name="lines-1-name"' in cell.group(1)
    assert '<p class="error" id="lines-1-name-error" role="alert">Name the product' in cell.group(1)
    assert count(app, Contract) == before


def test_milestone_date_column_reads_planned_date_and_policy_status_keeps_its_word(
    app, login, setup
):
    from flask_babel import force_locale, gettext, pgettext

    cid = make_contract(app, login("sales1"), setup["mine"])
    html = login("sales1").get(f"/contracts/{cid}").get_data(as_text=True)
    assert '<th scope="col">计划日期</th>' in html
    with app.test_request_context("/"), force_locale("zh_Hans"):
        assert pgettext("contract milestone", "Planned date") == "计划日期"
        assert gettext("Planned") == "待生效"


def test_contracts_list_has_a_new_contract_button_for_those_who_draft(app, login, setup):
    html = login("sales1").get("/contracts/").get_data(as_text=True)
    assert re.search(r'<a class="btn btn-primary" href="/contracts/new">新建合同</a>', html)
    assert "新建合同" not in login("service1").get("/contracts/").get_data(as_text=True)


def test_new_contract_asks_for_the_customer_among_the_reps_own(app, login, setup):
    sales = login("sales1")
    page = sales.get("/contracts/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="customer-q"' in html and 'id="customer_choices"' in html
    r = sales.get("/contracts/new?q=测试甲方")
    html = r.get_data(as_text=True)
    assert f'href="/contracts/new?customer_id={setup["mine"]}"' in html
    assert "别人的客户有限公司" not in sales.get("/contracts/new?q=别人的客户").get_data(
        as_text=True
    )
    # As one types (htmx): only the results come back, and the address follows.
    r = sales.get("/contracts/new?q=测试甲方", htmx="customer_choices")
    fragment = r.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="customer_choices"') and "<html" not in fragment
    assert "测试甲方科技有限公司" in fragment
    assert "HX-Push-Url" in r.headers
    # The choice leads to the existing form for that customer.
    form = sales.get(f"/contracts/new?customer_id={setup['mine']}").get_data(as_text=True)
    assert 'id="contract_form"' in form and "测试甲方科技有限公司" in form
    # The manager finds any rep's customer.
    manager = login("manager").get("/contracts/new?q=别人的客户").get_data(as_text=True)
    assert f'href="/contracts/new?customer_id={setup["other"]}"' in manager


def test_customer_search_that_finds_nothing_says_so(app, login, setup):
    r = login("sales1").get("/contracts/new?q=不存在的客户xyz", headers=EN)
    assert r.status_code == 200
    assert "No customer matches “不存在的客户xyz”." in r.get_data(as_text=True)
    long = login("sales1").get("/contracts/new?q=" + "长" * 500)
    assert long.status_code == 200


def test_only_those_who_draft_may_open_the_new_contract_chooser(app, login, setup):
    assert login("service1").get("/contracts/new").status_code == 403
    assert login("service1").get("/contracts/new?q=测试").status_code == 403


def test_posting_a_new_contract_without_customer_goes_back_to_the_chooser(app, login, setup):
    before = count(app, Contract)
    r = login("sales1").post("/contracts/new", data=form_data(""))
    assert r.status_code == 303 and r.headers["Location"].endswith("/contracts/new")
    assert count(app, Contract) == before


def test_a_mistyped_number_and_a_missing_name_are_both_marked_at_once(app, login, setup):
    sales = login("sales1")
    data = form_data(setup["mine"], **{"lines-1-name": "", "lines-1-unit_price": "五百"})
    r = sales.post(f"/contracts/new?customer_id={setup['mine']}", data=data, headers=EN)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'id="lines-1-unit_price-error" role="alert">Enter a number' in html
    assert 'id="lines-1-name-error" role="alert">Name the product or service.' in html
    assert "unit price must be more than zero" not in html


def test_draft_saved_by_htmx_heads_the_page_with_its_number(app, login, setup):
    sales = login("sales1")
    r = sales.post(
        f"/contracts/new?customer_id={setup['mine']}",
        data=short_instalments(setup["mine"]),
        headers=EN,
        htmx=True,
    )
    html = r.get_data(as_text=True)
    with app.app_context():
        number = db.session.scalar(select(Contract.number).order_by(Contract.id.desc()).limit(1))
    head = re.search(r'<div id="contract_form_head" hx-swap-oob="true">(.*?)</h1>', html, re.S)
    assert head and f"Edit contract {number}" in head.group(1)
