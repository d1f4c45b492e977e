"""Market activity services (P3.2): checks, budget reservation in SQL (lines less what
linked claims spent, never below 0, earliest lines first), free budget and shortfalls,
the monitoring report's reserved and free figures, the month grid and the daily scan."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import count

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from mktapp.brand import activities as svc
from mktapp.expense import budget as budget_svc
from mktapp.expense import monitoring
from mktapp.extensions import db
from mktapp.models import User
from mktapp.models.brand import Activity, ActivityBudgetLine
from mktapp.models.expense import ExpenseClaim

YEAR = 2032
_numbers = count(1)


@pytest.fixture
def ctx(app, demo):
    with app.test_request_context():
        yield demo


def user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def activity(lines, status="approved", start=date(YEAR, 3, 10), end=date(YEAR, 3, 12), **kw):
    a = Activity(
        number=f"HD-T-{next(_numbers):04d}",
        kind=kw.get("kind", "launch"),
        theme=kw.get("theme", "测试活动"),
        start_on=start,
        end_on=end,
        status=status,
        owner_id=user("market1").id,
    )
    for category, month, amount in lines:
        a.budget_lines.append(
            ActivityBudgetLine(category=category, year=YEAR, month=month, amount=Decimal(amount))
        )
    db.session.add(a)
    db.session.flush()
    return a


def claim(amount, day, category="activity", status="approved", link=None):
    record = ExpenseClaim(
        number=f"BX-A-{next(_numbers):05d}",
        category=category,
        reason="活动费用",
        amount=Decimal(str(amount)),
        incurred_on=day,
        payment_method="bank",
        status=status,
        owner_id=user("market1").id,
        link_type="activity" if link else "",
        link_id=link.id if link else None,
    )
    db.session.add(record)
    db.session.flush()
    return record


def plan(**changes) -> svc.PlanInput:
    data = svc.PlanInput(
        kind="launch",
        theme="发布会",
        purpose="",
        target_participants=10,
        target_leads=2,
        target_sales=Decimal("0"),
        start_on=date(YEAR, 3, 1),
        end_on=date(YEAR, 3, 2),
        place="",
        content="",
        form="offline",
        audience="",
        lines=[svc.LineInput("activity", YEAR, 3, Decimal("100"))],
    )
    for k, v in changes.items():
        setattr(data, k, v)
    return data


def test_check_refuses_end_before_start_unknown_category_and_negative_amounts(ctx):
    with pytest.raises(svc.ActivityError) as error:
        svc.check(plan(end_on=date(YEAR, 2, 1)))
    assert error.value.field == "end_on"
    with pytest.raises(svc.ActivityError) as error:
        svc.check(plan(lines=[svc.LineInput("yachts", YEAR, 3, Decimal("1"))]))
    assert error.value.field == "lines-0-category"
    with pytest.raises(svc.ActivityError) as error:
        svc.check(plan(lines=[svc.LineInput("brand", YEAR, 3, Decimal("-1"))]))
    assert error.value.field == "lines-0-amount"
    svc.check(plan())  # a good plan passes


def test_reserved_is_line_less_linked_spending_never_below_zero(ctx):
    a = activity([("activity", 3, "8000")])
    b = activity([("activity", 3, "1000")])
    claim("3000", date(YEAR, 3, 11), link=a)
    claim("2500", date(YEAR, 3, 11), link=b)  # more than its line: reserves 0
    claim("999", date(YEAR, 3, 11), link=a, status="pending")  # not spent yet
    claim("500", date(YEAR, 3, 11), link=a, category="brand")  # another category
    activity([("activity", 3, "7000")], status="draft")  # drafts reserve nothing
    activity([("activity", 3, "7000")], status="cancelled")
    assert svc.reserved_by_cell(YEAR) == {("activity", 3): Decimal("5000.00")}


def test_spending_is_taken_off_the_earliest_lines_first(ctx):
    a = activity([("activity", 3, "1000"), ("activity", 4, "1000")])
    claim("1500", date(YEAR, 3, 11), link=a)
    assert svc.reserved_by_cell(YEAR) == {
        ("activity", 3): Decimal("0.00"),
        ("activity", 4): Decimal("500.00"),
    }


def test_free_budget_and_shortfall_message(ctx):
    budget_svc.create_budget(
        user("manager"), YEAR, "测试预算", "", {("brand", 11): Decimal("10000")}
    )
    claim("2000", date(YEAR, 11, 3), category="brand")
    activity([("brand", 11, "5000")])
    cell = svc.budget_cells(YEAR)[("brand", 11)]
    assert (cell.budget, cell.spent, cell.reserved, cell.free) == (
        Decimal("10000.00"),
        Decimal("2000.00"),
        Decimal("5000.00"),
        Decimal("3000.00"),
    )
    lines = [svc.LineInput("brand", YEAR, 11, Decimal("8000"))]
    short = svc.shortfalls(lines)
    assert [(s.category, s.month, s.free, s.need) for s in short] == [
        ("brand", 11, Decimal("3000.00"), Decimal("8000"))
    ]
    with force_locale("zh_Hans"):
        assert short[0].message == "品牌推广费 2032年11月：预算剩余 ¥3,000.00，本活动需要 ¥8,000.00"
    assert svc.shortfalls([svc.LineInput("brand", YEAR, 11, Decimal("3000"))]) == []


def test_monitoring_report_shows_reserved_and_free(ctx):
    budget_svc.create_budget(
        user("manager"), YEAR, "测试预算", "", {("activity", 3): Decimal("9000")}
    )
    a = activity([("activity", 3, "4000")])
    claim("1000", date(YEAR, 3, 11), link=a)
    rep = monitoring.report(YEAR, today=date(YEAR, 6, 1))
    row = next(r for r in rep.rows if r.code == "activity")
    march = row.months[2]
    assert (march.budget, march.actual, march.reserved, march.free) == (
        Decimal("9000.00"),
        Decimal("1000.00"),
        Decimal("3000.00"),
        Decimal("5000.00"),
    )
    assert rep.total.total.reserved == Decimal("3000.00")


def test_month_grid_weeks_start_on_monday_and_bars_do_not_overlap(ctx):
    long = activity([], start=date(YEAR, 3, 1), end=date(YEAR, 3, 10), theme="长")
    short = activity([], start=date(YEAR, 3, 2), end=date(YEAR, 3, 2), theme="短")
    activity([], start=date(YEAR, 5, 1), end=date(YEAR, 5, 2), theme="五月")
    grid = svc.month_grid(user("market1"), date(YEAR, 3, 1), date(YEAR, 3, 2))
    assert all(w.days[0].weekday() == 0 and len(w.days) == 7 for w in grid.weeks)
    assert grid.weeks[0].days[0] <= date(YEAR, 3, 1) <= grid.weeks[0].days[6]
    assert {a.theme for a in grid.activities} == {"长", "短"}
    first_week = {b.activity.id: b for b in grid.weeks[0].bars}
    assert first_week[long.id].lane != first_week[short.id].lane
    # the long one continues into the next week, cut on the left
    second = next(b for b in grid.weeks[1].bars if b.activity.id == long.id)
    assert second.cut_left and second.col == 1
    assert grid.prev == f"{YEAR}-02" and grid.next == f"{YEAR}-04"


def test_scan_starts_and_ends_by_date(ctx):
    a = activity([], start=date(YEAR, 3, 10), end=date(YEAR, 3, 12))
    b = activity([], status="running", start=date(YEAR, 3, 1), end=date(YEAR, 3, 5))
    c = activity([], status="draft", start=date(YEAR, 3, 1), end=date(YEAR, 3, 2))
    assert svc.scan(date(YEAR, 3, 10)) == (1, 1)
    assert (a.status, b.status, c.status) == ("running", "ended", "draft")
    assert svc.scan(date(YEAR, 3, 13)) == (0, 1)
    assert a.status == "ended"
