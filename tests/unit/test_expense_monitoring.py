"""Monitoring (P6.3): the report's numbers, each anomaly rule, once-only notices, decisions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import count

import pytest
from sqlalchemy import func, select

from mktapp.expense import budget as budget_svc
from mktapp.expense import monitoring as svc
from mktapp.extensions import db
from mktapp.models import Notification, User
from mktapp.models.expense import ExpenseAnomaly, ExpenseClaim

YEAR = 2031
_numbers = count(1)


@pytest.fixture
def ctx(app, demo):
    with app.test_request_context():
        yield demo


def user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def claim(amount, day, category="brand", status="approved", owner="sales1", invoice=""):
    record = ExpenseClaim(
        number=f"BX-T-{next(_numbers):05d}",
        category=category,
        reason="测试",
        amount=Decimal(str(amount)),
        incurred_on=day,
        payment_method="bank",
        invoice_number=invoice,
        status=status,
        owner_id=user(owner).id,
    )
    db.session.add(record)
    db.session.flush()
    return record


def budget(cells):
    b = budget_svc.create_budget(user("manager"), YEAR, "测试预算", "", cells)
    db.session.flush()
    return b


def kinds(findings):
    return sorted(f.kind for f in findings)


def test_report_adds_up_actual_committed_and_budget_by_category_and_month(ctx):
    budget(
        {
            ("brand", 1): Decimal("1000"),
            ("brand", 2): Decimal("1000"),
            ("activity", 1): Decimal("300"),
        }
    )
    claim("200.50", date(YEAR, 1, 3))
    claim("100", date(YEAR, 1, 20), status="paid")
    claim("400", date(YEAR, 1, 21), status="pending")
    claim("999", date(YEAR, 1, 22), status="draft")
    claim("999", date(YEAR, 1, 23), status="rejected")
    claim("999", date(YEAR, 1, 24), status="withdrawn")
    claim("999", date(YEAR - 1, 12, 31))
    claim("350", date(YEAR, 1, 5), category="activity")
    rep = svc.report(YEAR, today=date(YEAR, 7, 2))
    brand = next(r for r in rep.rows if r.code == "brand")
    jan = brand.months[0]
    assert (jan.budget, jan.actual, jan.committed) == (
        Decimal("1000.00"),
        Decimal("300.50"),
        Decimal("400.00"),
    )
    assert brand.total.budget == Decimal("2000.00") and brand.total.actual == Decimal("300.50")
    activity = next(r for r in rep.rows if r.code == "activity")
    assert activity.months[0].over and not jan.over
    assert rep.total.total.actual == Decimal("650.50")
    assert rep.month_totals[0].budget == Decimal("1300.00")
    assert rep.total.total.committed == Decimal("400.00")
    assert rep.elapsed_pct == Decimal("50.1")  # 2 July: day 183 of 365


def test_over_budget_rule(ctx):
    rep_budget = {("brand", 3): Decimal("500")}
    budget(rep_budget)
    claim("499", date(YEAR, 3, 1))
    rep = svc.report(YEAR, today=date(YEAR, 12, 31))
    assert "over_budget" not in kinds(svc.detect(YEAR, rep))
    claim("2", date(YEAR, 3, 2))
    rep = svc.report(YEAR, today=date(YEAR, 12, 31))
    found = [f for f in svc.detect(YEAR, rep) if f.kind == "over_budget"]
    assert [(f.category, f.month) for f in found] == [("brand", 3)]


def test_pace_rule_compares_share_spent_with_share_of_year_elapsed(ctx):
    budget(
        {("brand", m): Decimal("100") for m in range(1, 13)} | {("activity", 12): Decimal("1200")}
    )
    today = date(YEAR, 3, 31)  # 24.7 % of the year
    claim(
        "500", date(YEAR, 2, 1)
    )  # brand: 41.7 % spent, 17 points ahead: fine... and over Feb budget
    claim("400", date(YEAR, 3, 1), category="activity")  # 33.3 %: 8.7 points ahead: fine
    rep = svc.report(YEAR, today=today)
    assert [f for f in svc.detect(YEAR, rep) if f.kind == "pace"] == []
    claim("100", date(YEAR, 3, 2))  # brand 50 %: 25.3 points ahead
    rep = svc.report(YEAR, today=today)
    pace = [f for f in svc.detect(YEAR, rep) if f.kind == "pace"]
    assert [f.category for f in pace] == ["brand"]
    assert pace[0].detail["spent_pct"] == "50.0"


def test_outlier_rule_uses_the_categorys_median(ctx):
    for amount in ("100", "100", "120", "90"):
        claim(amount, date(YEAR, 4, 1))
    claim("330", date(YEAR, 4, 2))  # median 100: 330 > 300
    claim("5000", date(YEAR, 4, 3), category="other")  # alone in its category: no median
    found = svc._outlier_findings(YEAR)
    assert [(f.kind, f.detail["amount"], f.detail["median"]) for f in found] == [
        ("outlier", "330.00", "100.00")
    ]


def test_outlier_rule_negative_at_exactly_three_times(ctx):
    for amount in ("100", "100", "100"):
        claim(amount, date(YEAR, 4, 1))
    claim("300", date(YEAR, 4, 2))  # median (100+100)/2 = 100: 300 is not more than 300
    assert svc._outlier_findings(YEAR) == []


def test_median_of_an_even_count_is_the_mean_of_the_middle_two(ctx):
    for amount in ("10", "20", "30", "1000"):
        claim(amount, date(YEAR, 5, 1), category="research")
    found = svc._outlier_findings(YEAR)
    assert [(f.detail["amount"], f.detail["median"]) for f in found] == [("1000.00", "25.00")]


def test_duplicate_invoice_rule(ctx):
    claim("10", date(YEAR, 5, 1), invoice="INV-001")
    claim("10", date(YEAR, 5, 2), invoice="INV-002")
    claim("10", date(YEAR, 5, 3), invoice="inv-002 ", owner="sales2")
    claim("10", date(YEAR, 5, 4), invoice="INV-003")
    claim("10", date(YEAR, 5, 5), invoice="INV-003", status="withdrawn")
    claim("10", date(YEAR, 5, 6), invoice="")
    claim("10", date(YEAR, 5, 7), invoice="")
    found = svc._duplicate_findings(YEAR)
    assert [(f.detail["invoice"], f.detail["count"]) for f in found] == [("INV-002", 2)]


def test_split_rule(ctx):
    threshold = svc.split_threshold()
    assert threshold == Decimal("5000.00")
    claim("3000", date(YEAR, 6, 1))
    claim("2500", date(YEAR, 6, 1))  # together 5500 >= 5000: split
    claim("3000", date(YEAR, 6, 2))
    claim("1500", date(YEAR, 6, 2))  # 4500: fine
    claim("3000", date(YEAR, 6, 3))
    claim("2500", date(YEAR, 6, 4))  # different days: fine
    claim("3000", date(YEAR, 6, 5))
    claim("2500", date(YEAR, 6, 5), owner="sales2")  # different people: fine
    claim("3000", date(YEAR, 6, 6))
    claim("2500", date(YEAR, 6, 6), category="other")  # different categories: fine
    found = svc._split_findings(YEAR, threshold)
    assert [(f.detail["day"], f.detail["total"]) for f in found] == [(f"{YEAR}-06-01", "5500.00")]


def test_split_rule_ignores_a_day_with_a_claim_over_the_threshold(ctx):
    claim("6000", date(YEAR, 6, 1))
    claim("100", date(YEAR, 6, 1))
    assert svc._split_findings(YEAR, Decimal("5000")) == []


def test_each_finding_is_stored_and_notified_once(ctx):
    budget({("brand", 1): Decimal("10"), ("brand", 12): Decimal("1000")})
    claim("20", date(YEAR, 1, 2))
    new = svc.scan(YEAR)
    assert [a.kind for a in new] == ["over_budget"]
    watchers = svc.watchers()
    assert {u.username for u in watchers} >= {"manager", "finance1"}
    notes = db.session.scalar(
        select(func.count(Notification.id)).where(Notification.url.like("%/expense/anomalies/%"))
    )
    assert notes == len(watchers)
    assert svc.scan(YEAR) == []
    assert db.session.scalar(select(func.count(ExpenseAnomaly.id))) == 1
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.url.like("%/expense/anomalies/%")
            )
        )
        == notes
    )


def test_a_decision_closes_the_anomaly(ctx):
    budget({("brand", 1): Decimal("10"), ("brand", 12): Decimal("1000")})
    claim("20", date(YEAR, 1, 2))
    anomaly = svc.scan(YEAR)[0]
    with pytest.raises(svc.AnomalyError):
        svc.decide(user("manager"), anomaly, "  ")
    assert anomaly.status == "open"
    svc.decide(user("manager"), anomaly, "已调整预算，追加 1 月品牌推广费")
    assert anomaly.status == "closed" and anomaly.decided_by_id == user("manager").id
    with pytest.raises(svc.AnomalyError):
        svc.decide(user("manager"), anomaly, "again")
    # Closed findings are not found again as new.
    assert svc.scan(YEAR) == []


def test_descriptions_read_in_plain_words(ctx):
    budget({("brand", 1): Decimal("10"), ("brand", 12): Decimal("1000")})
    claim("20", date(YEAR, 1, 2))
    anomaly = svc.scan(YEAR)[0]
    text = svc.describe(anomaly)
    assert "¥20.00" in text and "¥10.00" in text


def test_report_and_scan_run_a_fixed_number_of_queries(ctx, count_queries):
    budget({("brand", m): Decimal("100000") for m in range(1, 13)})
    for i in range(5):
        claim("100", date(YEAR, 1 + i % 12, 1 + i % 28), invoice=f"A{i}")
    svc.scan(YEAR)
    with count_queries() as few:
        svc.scan(YEAR, svc.report(YEAR))
    for i in range(60):
        claim(
            "100",
            date(YEAR, 1 + i % 12, 1 + i % 28),
            invoice=f"B{i}",
            owner=("sales1", "sales2")[i % 2],
        )
    with count_queries() as many:
        svc.scan(YEAR, svc.report(YEAR))
    assert few.count == many.count <= 10


def test_anomaly_notices_say_what_and_how_much(ctx):
    budget({("brand", 11): Decimal("1000"), ("brand", 12): Decimal("100000")})
    claim("4000", date(YEAR, 11, 2))  # brand, November: ¥3,000.00 over its budget
    claim("3000", date(YEAR, 12, 1), invoice="INV-9")
    claim("2500", date(YEAR, 12, 1), invoice="inv-9")  # the same invoice, and a split day
    found = {a.kind: a for a in svc.scan(YEAR)}
    assert {"over_budget", "duplicate_invoice", "split"} <= set(found)
    brand = svc.category_label("brand")
    titles = {kind: svc.headline(a) for kind, a in found.items()}
    assert titles["over_budget"] == f"费用异常：{brand} 11月超预算 ¥3,000.00"
    assert titles["duplicate_invoice"] == "费用异常：发票号 INV-9 重复出现在 2 张报销单上"
    assert "¥5,500.00" in titles["split"] and user("sales1").display_name in titles["split"]
    notes = db.session.scalars(
        select(Notification.title).where(Notification.user_id == user("finance1").id)
    ).all()
    assert titles["over_budget"] in notes  # the notice carries it
