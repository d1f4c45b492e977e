"""Contract services: totals and tax, instalments that must add up, lifecycle transitions,
version snapshots and their difference, the overdue scan (notifies once)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from mktapp.contracts import services as svc
from mktapp.core import approvals as engine
from mktapp.extensions import db
from mktapp.models import Contract, Customer, Notification, User

D = Decimal
TODAY = date(2026, 3, 10)


def terms(qty="2", price="1000.00", rate="13", instalments=None, title="测试合同"):
    line = svc.LineInput(None, "服务器", "2U", "台", D(qty), D(price))
    t = svc.TermsInput(
        title=title,
        tax_rate=D(rate),
        lines=[line],
        deliveries=[svc.MilestoneInput(TODAY + timedelta(days=20), "交付")],
        instalments=[],
    )
    total = svc.totals_of(t).total
    t.instalments = instalments or [
        svc.MilestoneInput(
            TODAY + timedelta(days=5), "预付", (total * D("0.3")).quantize(D("0.01"))
        ),
        svc.MilestoneInput(
            TODAY + timedelta(days=30), "尾款", total - (total * D("0.3")).quantize(D("0.01"))
        ),
    ]
    return t


def scan():
    return FileStorage(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), filename="scan.pdf")


def test_totals_sum_the_lines_and_add_tax_to_the_fen():
    t = terms(qty="3", price="333.33", rate="13")
    totals = svc.totals_of(t)
    assert totals.amount_excl_tax == D("999.99")
    assert totals.tax_amount == D("130.00")  # 129.9987 rounded half-up
    assert totals.total == D("1129.99")


def test_instalments_must_add_up_to_the_total():
    t = terms(
        instalments=[
            svc.MilestoneInput(TODAY, "预付", D("100")),
            svc.MilestoneInput(TODAY, "尾款", D("100")),
        ]
    )
    problems = dict(svc.problems_of(t))
    assert "instalments" in problems


@pytest.mark.parametrize(
    ("qty", "price", "field"), [("0", "10", "lines-0-quantity"), ("1", "-1", "lines-0-unit_price")]
)
def test_quantity_and_price_must_be_positive(qty, price, field):
    problems = dict(svc.problems_of(terms(qty=qty, price=price)))
    assert field in problems


def test_diff_names_changed_fields_lines_added_removed_and_changed(app_ctx):
    old = svc.terms_snapshot(terms())
    changed = terms(qty="3")
    changed.lines.append(svc.LineInput(None, "安装", "", "次", D("1"), D("200")))
    changed.deliveries[0].planned_date = TODAY + timedelta(days=40)
    new = svc.terms_snapshot(changed)
    diff = svc.diff_terms(old, new, 1, 2)
    assert not diff.empty
    labels = [str(label) for label, _o, _n in diff.fields]
    assert "Total" in labels or "合计" in labels
    lines = diff.sections[0]
    assert lines.added and "安装" in lines.added[0]
    assert lines.changed[0].label == "服务器"
    assert any(old_v == "2" and new_v == "3" for _l, old_v, new_v in lines.changed[0].changes)
    deliveries = diff.sections[1]
    assert deliveries.changed
    removed = svc.diff_terms(new, old).sections[0].removed
    assert removed and "安装" in removed[0]
    assert svc.diff_terms(old, old).empty


@pytest.fixture
def people(app, demo):
    with app.app_context():
        rep = db.session.get(User, demo["sales1"])
        customer = Customer(name="单元测试客户", name_key="单元测试客户", owner_id=rep.id)
        db.session.add(customer)
        db.session.commit()
        yield {
            "rep": rep,
            "manager": db.session.get(User, demo["manager"]),
            "customer": customer,
        }


def approve(doc, manager):
    step = engine.pending_step(engine.current_request(doc))
    engine.approve(step.id, manager)


def test_lifecycle_draft_review_sign_execute_complete(app_ctx, people):
    rep, manager = people["rep"], people["manager"]
    c = svc.create_contract(rep, terms(), TODAY, customer_id=people["customer"].id)
    assert c.status == "draft" and c.number.startswith("HT-2026-")
    with pytest.raises(svc.ContractError):
        svc.sign_contract(rep, c, TODAY, scan(), TODAY)
    svc.submit_contract(rep, c)
    assert c.status == "pending"
    with pytest.raises(svc.ContractError):
        svc.update_contract(rep, c, terms(qty="5"))
    approve(c, manager)
    assert c.status == "approved"
    with pytest.raises(svc.ContractError) as error:
        svc.sign_contract(rep, c, TODAY - timedelta(days=1), scan(), TODAY)
    assert error.value.field == "signed_on"
    svc.sign_contract(rep, c, TODAY, scan(), TODAY)
    assert c.status == "signed" and c.version == 1 and len(c.versions) == 1
    with pytest.raises(svc.ContractError):
        svc.update_contract(rep, c, terms(qty="5"))
    for m in c.milestones:
        svc.record_milestone(rep, c, m, TODAY, m.planned_amount, "", TODAY)
    assert c.status == "executing"
    svc.complete_contract(rep, c, TODAY)
    assert c.status == "completed"
    db.session.rollback()


def test_rejected_contract_can_be_edited_and_resubmitted(app_ctx, people):
    rep, manager = people["rep"], people["manager"]
    c = svc.create_contract(rep, terms(), TODAY, customer_id=people["customer"].id)
    svc.submit_contract(rep, c)
    step = engine.pending_step(engine.current_request(c))
    engine.reject(step.id, manager, "价格太低")
    assert c.status == "rejected"
    svc.update_contract(rep, c, terms(price="1200"))
    svc.submit_contract(rep, c)
    assert c.status == "pending"
    assert len(engine.requests_for(c)) == 2
    db.session.rollback()


def test_amendment_makes_a_new_version_with_its_snapshot(app_ctx, people):
    rep, manager = people["rep"], people["manager"]
    c = svc.create_contract(rep, terms(), TODAY, customer_id=people["customer"].id)
    svc.submit_contract(rep, c)
    approve(c, manager)
    svc.sign_contract(rep, c, TODAY, scan(), TODAY)
    new_terms = terms(qty="4")
    a = svc.request_amendment(rep, c, "客户追加", new_terms)
    assert a.status == "pending" and c.version == 1
    with pytest.raises(svc.ContractError):
        svc.request_amendment(rep, c, "再改一次", terms(qty="5"))
    approve(a, manager)
    assert a.status == "approved" and a.to_version == 2
    assert c.version == 2 and c.lines[0].quantity == D("4")
    diff = svc.version_diff(c, 1, 2)
    assert diff is not None and diff.sections[0].changed
    db.session.rollback()


def test_overdue_scan_notifies_owner_and_manager_once(app_ctx, people):
    rep, manager = people["rep"], people["manager"]
    c = svc.create_contract(rep, terms(), TODAY, customer_id=people["customer"].id)
    svc.submit_contract(rep, c)
    approve(c, manager)
    svc.sign_contract(rep, c, TODAY, scan(), TODAY)
    db.session.flush()

    def notes():
        return db.session.scalar(
            select(func.count(Notification.id)).where(Notification.url == f"/contracts/{c.id}")
        )

    before = notes()
    assert svc.scan_overdue(TODAY + timedelta(days=1)) == 0
    count = svc.scan_overdue(TODAY + timedelta(days=10))  # the first instalment is late
    assert count == 1
    assert notes() - before == 2  # the owner and the marketing manager
    assert svc.scan_overdue(TODAY + timedelta(days=11)) == 0
    assert notes() - before == 2
    db.session.rollback()


def test_visibility_rule(app_ctx, people, demo):
    rep = people["rep"]
    c = svc.create_contract(rep, terms(), TODAY, customer_id=people["customer"].id)
    db.session.flush()

    def sees(username):
        user = db.session.get(User, demo[username])
        return (
            db.session.scalar(
                select(func.count(Contract.id)).where(
                    Contract.id == c.id, Contract.visible_to(user)
                )
            )
            == 1
        )

    assert sees("sales1") and not sees("sales2")
    assert sees("sales3")  # the 业务组 leader
    assert all(sees(u) for u in ("manager", "boss", "service1", "finance1"))
    assert not sees("market1") and not sees("admin")
    db.session.rollback()


def test_signing_wins_the_opportunity_it_was_drafted_from(app_ctx, people):
    from mktapp.models import Opportunity

    rep, manager = people["rep"], people["manager"]
    opportunity = Opportunity(
        customer=people["customer"], title="签约即赢单", stage="negotiation", owner_id=rep.id
    )
    db.session.add(opportunity)
    db.session.flush()
    c = svc.create_contract(rep, terms(), TODAY, opportunity_id=opportunity.id)
    svc.submit_contract(rep, c)
    approve(c, manager)
    assert opportunity.stage == "negotiation"  # approval alone does not win it
    svc.sign_contract(rep, c, TODAY, scan(), TODAY)
    assert opportunity.stage == "won" and people["customer"].status == "won"
    assert [ch.to_stage for ch in opportunity.stage_changes][-1] == "won"
    db.session.rollback()


# --- drafts may be incomplete; review may not (issue 11, item 8) ---------------------------


def short_of_total():
    """Instalments of 100 + 100 against a total of 2,260."""
    return terms(
        instalments=[
            svc.MilestoneInput(TODAY, "预付", D("100")),
            svc.MilestoneInput(TODAY, "尾款", D("100")),
        ]
    )


def test_draft_whose_instalments_do_not_add_up_is_saved_with_a_warning(app_ctx, people):
    c = svc.create_contract(
        people["rep"], short_of_total(), TODAY, customer_id=people["customer"].id
    )
    assert c.status == "draft" and c.total == D("2260.00")
    warnings = dict(svc.draft_warnings(c))
    assert "¥200.00" in warnings["instalments"] and "¥2,260.00" in warnings["instalments"]
    db.session.rollback()


def test_submitting_a_draft_whose_instalments_do_not_add_up_is_refused_at_the_instalments(
    app_ctx, people
):
    c = svc.create_contract(
        people["rep"], short_of_total(), TODAY, customer_id=people["customer"].id
    )
    with pytest.raises(svc.TermsError) as error:
        svc.submit_contract(people["rep"], c)
    assert "instalments" in dict(error.value.problems)
    assert c.status == "draft" and engine.current_request(c) is None
    with pytest.raises(svc.TermsError):
        svc.create_contract(
            people["rep"], short_of_total(), TODAY, customer_id=people["customer"].id, review=True
        )
    db.session.rollback()


def test_draft_without_instalment_amounts_saves_and_review_names_the_missing_amount(
    app_ctx, people
):
    t = terms(instalments=[svc.MilestoneInput(TODAY, "预付", None)])
    c = svc.create_contract(people["rep"], t, TODAY, customer_id=people["customer"].id)
    payment = next(m for m in c.milestones if m.kind == "payment")
    assert payment.planned_amount is None
    with pytest.raises(svc.TermsError) as error:
        svc.submit_contract(people["rep"], c)
    assert "instalments-0-amount" in dict(error.value.problems)
    db.session.rollback()


def test_what_was_typed_wrong_stops_even_a_draft(app_ctx, people):
    with pytest.raises(svc.TermsError) as error:
        svc.create_contract(people["rep"], terms(qty="0"), TODAY, customer_id=people["customer"].id)
    assert error.value.field == "lines-0-quantity"
    bad = terms(instalments=[svc.MilestoneInput(TODAY, "预付", D("-5"))])
    with pytest.raises(svc.TermsError) as error:
        svc.create_contract(people["rep"], bad, TODAY, customer_id=people["customer"].id)
    assert error.value.field == "instalments-0-amount"
    db.session.rollback()


def test_rows_left_empty_are_not_saved_and_do_not_count_as_problems(app_ctx, people):
    t = terms()
    t.instalments.insert(1, svc.MilestoneInput(None, "", None))
    t.lines.append(svc.LineInput(None, "", "", "", None, None))
    assert svc.problems_of(t) == []
    c = svc.create_contract(people["rep"], t, TODAY, customer_id=people["customer"].id)
    assert len(c.lines) == 1
    assert [m.seq for m in c.milestones if m.kind == "payment"] == [1, 2]
    assert svc.draft_warnings(c) == []
    db.session.rollback()


def test_fill_the_remainder_puts_total_less_the_other_instalments_on_the_last():
    t = terms(
        instalments=[
            svc.MilestoneInput(TODAY, "预付", D("1000")),
            svc.MilestoneInput(TODAY, "到货款", D("500.55")),
            svc.MilestoneInput(TODAY, "尾款", D("1")),
        ]
    )
    assert svc.totals_of(t).total == D("2260.00")
    assert svc.remainder(t) == D("759.45")
    t.instalments[-1].amount = svc.remainder(t)
    assert svc.problems_of(t) == []


def test_fill_the_remainder_without_lines_says_what_is_missing(app_ctx):
    t = terms()
    t.lines = []
    with pytest.raises(svc.ContractError) as error:
        svc.remainder(t)
    assert error.value.field == "instalments" and "没有产品明细" in error.value.message
    t = terms()
    t.lines[0].unit_price = None
    with pytest.raises(svc.ContractError) as error:
        svc.remainder(t)
    assert "算不出合计" in error.value.message


def test_fill_the_remainder_when_the_others_already_reach_the_total(app_ctx):
    t = terms(
        instalments=[
            svc.MilestoneInput(TODAY, "全款", D("2260")),
            svc.MilestoneInput(TODAY, "多余", None),
        ]
    )
    with pytest.raises(svc.ContractError) as error:
        svc.remainder(t)
    assert "没有余额可填" in error.value.message


def test_customer_choices_follow_the_record_rules(app_ctx, people, demo):
    other = Customer(
        name="单元测试别人的客户", name_key="单元测试别人的客户", owner_id=demo["sales2"]
    )
    db.session.add(other)
    db.session.flush()
    names = [c.name for c in svc.customer_choices(people["rep"], "单元测试").rows]
    assert "单元测试客户" in names and "单元测试别人的客户" not in names
    names = [c.name for c in svc.customer_choices(people["manager"], "单元测试").rows]
    assert {"单元测试客户", "单元测试别人的客户"} <= set(names)
    db.session.rollback()
