"""Demo sales contracts: 80 (a handful under test) in every state, made through the services
and the approval engine so requests, steps, versions and milestones agree.

Some are amended (a second or third version), some running contracts have deliveries or
payments past their date with nothing recorded (overdue), some were returned by the
manager, terminated or completed. When the database has no customers or products yet
(the sales demo did not run), a few are created here.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from io import BytesIO

from flask import current_app
from sqlalchemy import func, select, update
from werkzeug.datastructures import FileStorage

from mktapp.contracts import services as svc
from mktapp.core import approvals as engine
from mktapp.core.notify import PENDING_KEY
from mktapp.demo import approve_all
from mktapp.extensions import db
from mktapp.models import (
    ApprovalEvent,
    ApprovalRequest,
    Contract,
    Customer,
    Notification,
    Product,
    User,
    utcnow,
)

CUSTOMERS = [
    ("上海华东精密机械有限公司", "制造业", "上海"),
    ("杭州云帆信息技术有限公司", "软件和信息服务", "浙江"),
    ("南京金陵医疗器械有限公司", "医疗器械", "江苏"),
    ("苏州恒通物流有限公司", "物流", "江苏"),
    ("宁波海星电子有限公司", "电子制造", "浙江"),
    ("合肥新能汽车零部件有限公司", "汽车零部件", "安徽"),
    ("无锡明德教育科技有限公司", "教育", "江苏"),
    ("上海瑞丰连锁商业有限公司", "零售", "上海"),
    ("温州东方阀门有限公司", "制造业", "浙江"),
    ("常州绿源环保工程有限公司", "环保", "江苏"),
    ("嘉兴丰和食品有限公司", "食品", "浙江"),
    ("上海申城建筑设计院有限公司", "建筑设计", "上海"),
]
PRODUCTS = [
    ("P-OA-100", "智能会议平板", "86 英寸 4K 触控，含移动支架", "台", "28800.00"),
    ("P-OA-200", "无线投屏器", "双频 Wi-Fi 6，4 路同屏", "套", "2600.00"),
    ("P-OA-300", "智能办公终端", "i5/16G/512G，三年保修", "台", "5200.00"),
    ("P-SW-100", "协同办公软件", "企业版，按用户年度订阅", "用户·年", "360.00"),
    ("P-SW-200", "设备管理平台", "私有化部署授权", "套", "48000.00"),
    ("S-IN-100", "安装调试服务", "含布线与现场调试", "次", "3500.00"),
    ("S-TR-100", "用户培训", "现场培训，每次半天", "次", "2000.00"),
    ("S-MA-100", "年度维保服务", "7×24 响应，季度巡检", "年", "18000.00"),
]
AFTER_SALES = (
    "1. 质保期：设备自验收合格之日起保修一年，软件提供一年免费升级。\n"
    "2. 响应时间：接到报修后 4 小时内响应，24 小时内到场（江浙沪地区）。\n"
    "3. 质保期内非人为损坏免费维修或更换；质保期外按成本价提供配件与服务。"
)
OTHER_TERMS = (
    "1. 验收：乙方交货后 7 个工作日内，甲方按本合同约定的规格组织验收。\n"
    "2. 违约责任：任何一方逾期履行，每逾期一日按未履行部分金额的 0.05% 支付违约金。\n"
    "3. 争议解决：协商不成的，提交乙方所在地人民法院诉讼解决。"
)
REJECT_REASONS = [
    "折扣超出授权范围，请按价格政策重新核算。",
    "付款节点过于靠后，首付款比例请不低于 30%。",
    "售后条款缺少响应时间，请补充后再提交。",
]
AMEND_REASONS = [
    "客户追加采购数量，经双方协商增加订单。",
    "客户场地改造延期，交货日期顺延一个月。",
    "客户要求调整付款节点，尾款改为验收后支付。",
]
TERMINATE_REASONS = [
    "客户项目取消，双方协商一致解除合同。",
    "客户经营困难无法付款，经管理层同意终止合同。",
]
# The states of the demo contracts, in proportion (80 in all).
PLAN = (
    ["draft"] * 6
    + ["pending"] * 7
    + ["rejected"] * 4
    + ["approved"] * 6
    + ["signed"] * 9
    + ["executing"] * 30
    + ["completed"] * 14
    + ["terminated"] * 4
)
# Without the bulk demo (tests): a few contracts that leave nothing waiting (no pending
# approval step, no signed scan), which other chapters' tests would otherwise count.
HANDFUL = ["draft", "rejected", "approved", "draft"]


def _scan(number: str) -> FileStorage:
    body = f"%PDF-1.4\n% signed contract {number}\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    return FileStorage(BytesIO(body.encode()), filename=f"{number}-signed.pdf")


def _ensure_catalogue(reps: list[User]) -> tuple[list[Customer], list[Product]]:
    customers = list(
        db.session.scalars(
            select(Customer).where(Customer.archived_at.is_(None)).order_by(Customer.id)
        )
    )
    if not customers:
        for i, (name, industry, province) in enumerate(CUSTOMERS):
            customers.append(
                Customer(
                    name=name,
                    name_key=name.replace("有限公司", ""),
                    industry=industry,
                    province=province,
                    grade="ABC"[i % 3],
                    status="intent",
                    source="fair",
                    owner_id=reps[i % len(reps)].id,
                )
            )
        db.session.add_all(customers)
    products = list(
        db.session.scalars(
            select(Product).where(Product.archived_at.is_(None)).order_by(Product.id)
        )
    )
    if not products:
        for code, name, spec, unit, price in PRODUCTS:
            products.append(
                Product(
                    code=code,
                    name=name,
                    specification=spec,
                    unit=unit,
                    list_price=Decimal(price),
                    unit_cost=(Decimal(price) * Decimal("0.62")).quantize(Decimal("0.01")),
                )
            )
        db.session.add_all(products)
    db.session.flush()
    return customers, products


def _terms(rng: random.Random, products: list[Product], start: date) -> svc.TermsInput:
    chosen = rng.sample(products, k=min(len(products), rng.randint(1, 3)))
    lines = []
    for p in chosen:
        qty = (
            Decimal(rng.choice([1, 2, 3, 5, 8, 10, 20, 50]))
            if p.list_price < 5000
            else Decimal(rng.randint(1, 6))
        )
        discount = Decimal(rng.choice(["1", "0.95", "0.9", "0.88"]))
        price = (p.list_price * discount).quantize(Decimal("0.01"))
        lines.append(svc.LineInput(p.id, p.name, p.specification, p.unit, qty, price))
    terms = svc.TermsInput(
        title=f"{chosen[0].name}采购合同",
        tax_rate=Decimal("13.00"),
        lines=lines,
        deliveries=[
            svc.MilestoneInput(start + timedelta(days=rng.randint(20, 45)), "全部货物交付并安装")
        ],
        instalments=[],
        payment_method="银行转账至乙方对公账户",
        after_sales_terms=AFTER_SALES,
        other_terms=OTHER_TERMS,
    )
    total = svc.totals_of(terms).total
    first = (total * Decimal("0.3")).quantize(Decimal("0.01"))
    second = (total * Decimal("0.6")).quantize(Decimal("0.01"))
    delivery = terms.deliveries[0].planned_date
    terms.instalments = [
        svc.MilestoneInput(start + timedelta(days=7), "预付款", first),
        svc.MilestoneInput(delivery + timedelta(days=10), "到货验收款", second),
        svc.MilestoneInput(delivery + timedelta(days=90), "尾款", total - first - second),
    ]
    return terms


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC) - timedelta(hours=8)


def seed(ctx: dict) -> None:
    users: dict[str, User] = ctx["users"]
    reps = [users[n] for n in ("sales1", "sales2", "sales3") if n in users]
    if not reps or "manager" not in users:
        return
    bulk = current_app.config.get("DEMO_SALES", not current_app.testing)
    if not bulk and "sales3" in users:
        # The handful (tests) belongs to the 业务组 leader alone, so tests that count what
        # sales1 or sales2 own (hand-over) start from nothing.
        reps = [users["sales3"]]
    rng = random.Random(43)
    customers, products = _ensure_catalogue(reps)
    if db.session.scalar(select(func.count(Contract.id))):
        return
    plan = list(PLAN) if bulk else list(HANDFUL)
    rng.shuffle(plan)
    today = ctx["today"]
    amended = 0
    overdue_left = 0
    for i, state in enumerate(plan):
        rep = reps[i % len(reps)]
        mine = [c for c in customers if c.owner_id in (rep.id, None)] or customers
        customer = rng.choice(mine)
        age = {
            "draft": rng.randint(0, 10),
            "pending": rng.randint(2, 15),
            "rejected": rng.randint(5, 20),
            "approved": rng.randint(5, 20),
            "signed": rng.randint(10, 40),
            "executing": rng.randint(40, 200),
            "completed": rng.randint(200, 330),
            "terminated": rng.randint(60, 200),
        }[state]
        drafted = today - timedelta(days=age)
        terms = _terms(rng, products, drafted)
        contract = svc.create_contract(rep, terms, drafted, customer_id=customer.id)
        if state != "draft":
            svc.submit_contract(rep, contract)
            if state == "rejected":
                step = engine.pending_step(engine.current_request(contract))
                engine.reject(step.id, users["manager"], rng.choice(REJECT_REASONS))
            elif state != "pending":
                approve_all(contract, users)
        if state in ("signed", "executing", "completed", "terminated"):
            signed_on = min(today, drafted + timedelta(days=rng.randint(3, 8)))
            svc.sign_contract(rep, contract, signed_on, _scan(contract.number), today)
            if (state == "executing" and amended < 8) or (state == "signed" and amended < 2):
                new_terms = svc.terms_of(contract)
                kind = amended % 3
                if kind == 0:
                    new_terms.lines[0].quantity += 1
                elif kind == 1:
                    for d in new_terms.deliveries:
                        d.planned_date += timedelta(days=30)
                else:
                    new_terms.instalments[1].description = "验收合格后付款"
                    new_terms.instalments[1].planned_date += timedelta(days=15)
                if kind == 0:
                    total = svc.totals_of(new_terms).total
                    paid = sum(m.amount for m in new_terms.instalments[:-1])
                    new_terms.instalments[-1].amount = total - paid
                amendment = svc.request_amendment(rep, contract, AMEND_REASONS[kind], new_terms)
                approve_all(amendment, users)
                amended += 1
        if state in ("executing", "completed", "terminated"):
            svc.start_execution(rep, contract, min(today, contract.signed_on + timedelta(days=1)))
            for m in sorted(contract.milestones, key=lambda m: m.planned_date):
                if m.planned_date >= today:
                    continue
                # A few running contracts keep a payment overdue (nothing recorded).
                if (
                    state == "executing"
                    and m.kind == "payment"
                    and overdue_left < 8
                    and rng.random() < 0.35
                ):
                    overdue_left += 1
                    continue
                late = rng.choice([0, 0, 0, 2, 5, 12])
                actual = min(today, max(contract.signed_on, m.planned_date + timedelta(days=late)))
                svc.record_milestone(
                    rep,
                    contract,
                    m,
                    actual,
                    m.planned_amount,
                    "按期完成" if late == 0 else f"延迟 {late} 天",
                    today,
                )
        if state == "completed":
            for m in contract.milestones:
                if not m.done:
                    m.actual_date = min(today, max(contract.signed_on, m.planned_date))
                    m.actual_amount = m.planned_amount
                    m.recorded_by_id = rep.id
            svc.complete_contract(rep, contract, today)
            contract.closed_on = max(m.actual_date for m in contract.milestones)
        if state == "terminated":
            svc.terminate_contract(rep, contract, rng.choice(TERMINATE_REASONS), today)
        _backdate(contract, drafted)
        db.session.flush()
    _archive_some(users, today)
    _quiet_history()
    ctx["contracts"] = len(plan)


def _backdate(contract: Contract, drafted: date) -> None:
    """Move the record's times back to when things happened (the demo is a year of work)."""
    created = _at(drafted, 9)
    contract.created_at = created
    if contract.submitted_at is not None:
        contract.submitted_at = created + timedelta(hours=2)
    if contract.approved_at is not None:
        contract.approved_at = created + timedelta(days=1)
    db.session.flush()
    db.session.execute(
        update(ApprovalRequest)
        .where(ApprovalRequest.doc_type == "Contract", ApprovalRequest.doc_id == contract.id)
        .values(submitted_at=created + timedelta(hours=2))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(ApprovalEvent)
        .where(ApprovalEvent.doc_type == "Contract", ApprovalEvent.doc_id == contract.id)
        .values(at=created + timedelta(hours=3))
        .execution_options(synchronize_session=False)
    )
    for version in contract.versions:
        version.created_at = _at(contract.signed_on or drafted, 15) + timedelta(
            days=20 * (version.version - 1)
        )


def _archive_some(users: dict[str, User], today: date) -> None:
    """The service group has filed most of the completed and some running contracts."""
    clerk = users.get("service1")
    if clerk is None:
        return
    rows = list(
        db.session.scalars(
            select(Contract)
            .where(Contract.status.in_(["completed", "executing", "terminated"]))
            .order_by(Contract.signed_on)
        )
    )
    for n, contract in enumerate(rows):
        if contract.status == "executing" and n % 2:
            continue
        svc.archive_contract(
            clerk,
            contract,
            contract.number.replace("HT", "DA"),
            f"档案室 {'ABC'[n % 3]}-{n // 10 + 1:02d}-{n % 10 + 1}",
            None,
            today,
        )


def _quiet_history() -> None:
    """Old news is read: only notices about contracts still under review stay unread."""
    db.session.flush()
    pending = db.session.scalars(select(Contract.id).where(Contract.status == "pending")).all()
    keep = [svc.FLOW.url(i) for i in pending] or [""]
    db.session.execute(
        update(Notification)
        .where(
            Notification.read_at.is_(None),
            Notification.url.like("/contracts/%"),
            Notification.url.not_in(keep),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.info.pop(PENDING_KEY, None)
