"""Demo budgets (P6.1): this year's approved budget with one adjustment, last year's
(closed once its accounts are settled, from March on: close_last_year runs last), and
from November next year's,
approved ahead of the new year like a real company's: the demo's activities and claims
always find a budget for the months they fall in, whatever day the demo is built for.

Runs before the claims seeder, so the claims find a budget to count against.
"""

from __future__ import annotations

from decimal import Decimal

from mktapp.core import approvals as engine
from mktapp.expense import budget as svc
from mktapp.expense.common import MONTHS
from mktapp.extensions import db

# Yearly amounts (yuan) and how they fall over the months: product launches in
# spring, the 618 and Double 11 campaigns, trade fairs in autumn, commission
# following sales.
PLAN = {
    "research": (120_000, [6, 10, 12, 8, 6, 6, 6, 8, 12, 10, 8, 8]),
    "brand": (300_000, [6, 7, 10, 9, 8, 8, 7, 7, 9, 10, 10, 9]),
    "activity": (360_000, [4, 5, 12, 11, 8, 7, 5, 6, 12, 13, 10, 7]),
    "advertising": (420_000, [6, 5, 7, 7, 9, 14, 6, 6, 7, 9, 16, 8]),
    "commission": (300_000, [6, 6, 8, 8, 8, 9, 8, 8, 9, 9, 10, 11]),
    "customer": (120_000, [14, 6, 7, 7, 7, 7, 7, 7, 9, 8, 7, 14]),
    "other": (60_000, [8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9]),
}


def plan_cells(scale: Decimal = Decimal(1)) -> dict[tuple[str, int], Decimal]:
    """Monthly amounts in whole hundreds of yuan that add up to each category's year."""
    cells = {}
    for category, (yearly, weights) in PLAN.items():
        total = (Decimal(yearly) * scale).quantize(Decimal("1000"))
        weight_sum = sum(weights)
        parts = [(total * w / weight_sum).quantize(Decimal("100")) for w in weights]
        parts[-1] += total - sum(parts)
        for month, amount in zip(MONTHS, parts, strict=True):
            cells[(category, month)] = amount.quantize(Decimal("0.01"))
    return cells


def _approved_budget(year: int, scale: Decimal, manager, boss, notes: str):
    budget = svc.create_budget(manager, year, f"{year}年度营销预算", notes, plan_cells(scale))
    svc.submit_budget(manager, budget)
    step = engine.pending_step(engine.current_request(budget))
    engine.approve(step.id, boss, "同意，按季度跟踪执行情况。")
    db.session.flush()
    return budget


def seed(ctx: dict) -> None:
    users = ctx["users"]
    manager, boss = users["manager"], users["boss"]
    today = ctx["today"]
    year = today.year
    last = _approved_budget(
        year - 1,
        Decimal("0.9"),
        manager,
        boss,
        "上年度预算，已执行完毕。",
    )
    current = _approved_budget(
        year,
        Decimal(1),
        manager,
        boss,
        "按公司年度经营计划编制；重点投入618与双十一线上推广、春秋两季展会。",
    )
    svc.adjust(
        manager,
        current,
        "advertising",
        11,
        Decimal("80000.00"),
        "双十一大促追加线上广告投放预算，经营销例会讨论同意。",
    )
    ctx["budgets"] = {"current": current, "last": last}
    if today.month >= 11:
        ctx["budgets"]["next"] = _approved_budget(
            year + 1,
            Decimal("1.1"),
            manager,
            boss,
            "下年度预算：在本年度执行情况基础上增加 10%，经营销例会讨论、公司领导批准。",
        )


def close_last_year(ctx: dict) -> None:
    """Last year's budget is closed once its accounts are settled (from March on); run
    after the other chapters, which may still adjust it on their way (brand plans)."""
    if ctx["today"].month >= 3:
        users = ctx["users"]
        svc.close_budget(users.get("finance1", users["manager"]), ctx["budgets"]["last"])
