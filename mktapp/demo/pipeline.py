"""Demo pipeline: the product list, and opportunities in every stage with stage histories.

Always: ten products and a dozen opportunities (the tests use them). With DEMO_SALES
(on by default outside tests; the browser tests' live server sets it) about 150 more
over the past year, each with a realistic history of moves. Customers are taken from
those the customers' demo made; when there are none (this module alone) a few are made.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from mktapp.core import clock
from mktapp.extensions import db
from mktapp.models import User
from mktapp.models.sales import OPEN_STAGES, Customer, Opportunity, Product
from mktapp.sales import pipeline
from mktapp.sales.pipeline import OpportunityInput

# code, name, specification, unit, list price, unit cost, description
PRODUCTS = [
    (
        "ZH-MP86",
        "智能会议平板 86 英寸",
        "86 英寸 4K 触控，内置 Windows/Android 双系统",
        "台",
        "28800",
        "17600",
        "会议室主力机型，含移动支架与无线投屏器一个。",
    ),
    (
        "ZH-MP65",
        "智能会议平板 65 英寸",
        "65 英寸 4K 触控，Android 系统",
        "台",
        "15800",
        "9900",
        "适合中小会议室与培训教室。",
    ),
    (
        "ZH-CAM4",
        "4K 视频会议摄像头",
        "4K 超清，12 倍光学变焦，自动取景",
        "台",
        "6980",
        "3650",
        "与会议平板配套使用。",
    ),
    ("ZH-MIC8", "全向会议麦克风", "8 米拾音，回声消除，可级联", "只", "2380", "1120", ""),
    ("ZH-SHR2", "无线投屏器", "一键投屏，支持 Windows/macOS/手机", "个", "980", "410", ""),
    (
        "ZH-RMS",
        "会议室预约管理系统",
        "按会议室数计，含门口预约屏接入",
        "间·年",
        "1800",
        "300",
        "软件订阅，按年续费。",
    ),
    (
        "ZH-DS55",
        "数字标牌播放器",
        "55 英寸壁挂，定时播放与远程发布",
        "台",
        "7600",
        "4700",
        "用于前台、电梯厅的信息发布。",
    ),
    ("ZH-ACS", "人脸识别门禁考勤一体机", "双目活体检测，3 万人脸库", "台", "3580", "1980", ""),
    (
        "ZH-IMP",
        "实施与培训服务",
        "现场安装调试、使用培训",
        "人天",
        "1500",
        "650",
        "按实际人天结算。",
    ),
    (
        "ZH-MNT",
        "年度维保服务",
        "7×24 电话支持，4 小时到场",
        "年",
        "12000",
        "4200",
        "按设备数量阶梯报价。",
    ),
]

TITLES = [
    "总部会议室智能化改造（{n} 间）",
    "新办公楼会议平板采购 {n} 台",
    "分公司视频会议系统建设",
    "培训中心互动教学平板 {n} 台",
    "前台及电梯厅数字标牌 {n} 块",
    "门禁考勤系统升级（{n} 个出入口）",
    "会议室预约系统订阅（{n} 间）",
    "年度维保续约",
    "展厅多媒体设备采购",
    "远程协作会议室试点项目",
]
NEXT_STEPS = [
    "电话约见采购负责人",
    "发送产品资料与案例",
    "安排现场演示",
    "提交方案与报价",
    "协调技术交流会",
    "跟进预算审批进度",
    "商务谈判，确认付款方式",
    "准备合同文本",
]
LOST_REASONS = [
    "客户选择了价格更低的竞争对手。",
    "客户预算削减，项目取消。",
    "客户决策人变更，项目暂停。",
    "产品功能不满足客户定制需求。",
    "竞争对手已有长期合作关系。",
]
# For a database without customers: (name, industry, city, owner username)
CUSTOMERS = [
    ("上海恒信律师事务所", "法律服务", "上海", "sales1"),
    ("苏州博远精密机械有限公司", "制造业", "苏州", "sales1"),
    ("杭州云帆网络科技有限公司", "互联网", "杭州", "sales1"),
    ("南京金陵教育集团", "教育培训", "南京", "sales1"),
    ("宁波海曙区人民医院", "医疗卫生", "宁波", "sales2"),
    ("无锡华润置业有限公司", "房地产", "无锡", "sales2"),
    ("合肥智造产业园管理公司", "园区运营", "合肥", "sales2"),
    ("上海浦江银行股份有限公司", "金融", "上海", "sales2"),
    ("常州天合新能源有限公司", "新能源", "常州", "sales3"),
    ("绍兴轻纺城物流有限公司", "物流", "绍兴", "sales3"),
    ("嘉兴南湖酒店管理有限公司", "酒店", "嘉兴", "sales3"),
    ("温州瓯江建设集团", "建筑", "温州", "sales3"),
]
# (final stage, weight): the board's shape at the end of the year
FINAL_WEIGHTS = {
    "prospect": 18,
    "contact": 16,
    "needs": 14,
    "proposal": 12,
    "negotiation": 8,
    "won": 18,
    "lost": 14,
}


def _products() -> list[Product]:
    existing = {p.code: p for p in db.session.scalars(select(Product))}
    out = []
    for code, name, spec, unit, price, cost, desc in PRODUCTS:
        product = existing.get(code)
        if product is None:
            product = Product(
                code=code,
                name=name,
                specification=spec,
                unit=unit,
                list_price=Decimal(price),
                unit_cost=Decimal(cost),
                description=desc,
            )
            db.session.add(product)
        out.append(product)
    return out


def _customers(users: dict) -> list[Customer]:
    customers = list(
        db.session.scalars(
            select(Customer).where(Customer.archived_at.is_(None)).order_by(Customer.id).limit(400)
        )
    )
    if customers:
        return customers
    for name, industry, city, owner in CUSTOMERS:
        customer = Customer(
            name=name,
            name_key=name,
            industry=industry,
            city=city,
            province="",
            grade="B",
            status="potential",
            source="fair",
            owner=users.get(owner),
        )
        db.session.add(customer)
        customers.append(customer)
    db.session.flush()
    return customers


def _history(rng: random.Random, final: str, start: datetime, now: datetime):
    """The stages walked to reach `final`, each with when it was entered."""
    if final in OPEN_STAGES:
        path = list(OPEN_STAGES[: OPEN_STAGES.index(final) + 1])
    elif final == "won":
        path = [*OPEN_STAGES, "won"]
    else:
        path = [*OPEN_STAGES[: rng.randint(1, len(OPEN_STAGES))], "lost"]
    # Spread the moves between start and now, never in the future.
    span = (now - start).total_seconds()
    weights = [rng.uniform(0.5, 1.5) for _ in path]
    used = rng.uniform(0.35, 0.95) if final in OPEN_STAGES else rng.uniform(0.6, 0.98)
    total = sum(weights)
    at = start
    out = []
    for i, stage in enumerate(path):
        if i:
            at = at + timedelta(seconds=span * used * weights[i - 1] / total)
        out.append((stage, min(at, now)))
    return out


def _make(rng, customer, owner, products, now, today, start=None, final=None):
    """What one opportunity will be: what it says when opened, and its stages with when
    each was entered (played through the pipeline services by _play)."""
    final = final or rng.choices(list(FINAL_WEIGHTS), list(FINAL_WEIGHTS.values()))[0]
    start = start or now - timedelta(days=rng.randint(10, 360), hours=rng.randint(0, 10))
    steps = _history(rng, final, start, now)
    product = rng.choice(products)
    qty = rng.choice([2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30])
    amount = Decimal(product.list_price) * qty * Decimal(rng.choice(["0.85", "0.9", "0.95", "1"]))
    amount = amount.quantize(Decimal("1"))
    last_stage, last_at = steps[-1]
    if last_stage in OPEN_STAGES:
        expected = today + timedelta(days=rng.randint(-6, 150))
    else:
        expected = last_at.astimezone(ZoneInfo("Asia/Shanghai")).date()
    data = OpportunityInput(
        customer_id=customer.id,
        title=rng.choice(TITLES).format(n=qty),
        amount=amount,
        expected_close=expected,
        next_step=rng.choice(NEXT_STEPS) if last_stage in OPEN_STAGES else "",
        stage=steps[0][0],
    )
    lost_reason = rng.choice(LOST_REASONS) if last_stage == "lost" else ""
    return owner, data, steps, lost_reason


def _play(owner, data: OpportunityInput, steps, lost_reason: str) -> Opportunity:
    """Open the opportunity and move it through its stages, each at its moment."""
    opportunity = pipeline.create_opportunity(owner, data, now=steps[0][1])
    for stage, at in steps[1:]:
        pipeline.move_stage(owner, opportunity, stage, lost_reason=lost_reason, now=at)
    # The record's own times are the history's (a year of work happens in one run).
    opportunity.created_at = steps[0][1]
    opportunity.updated_at = steps[-1][1]
    return opportunity


def seed(ctx: dict) -> None:
    users: dict = ctx.get("users") or {u.username: u for u in db.session.scalars(select(User))}
    reps = [users[n] for n in ("sales1", "sales2", "sales3") if n in users]
    if not reps:
        return
    rng = random.Random(4141)
    products = _products()
    customers = _customers(users)
    now = ctx.get("now") or clock.now()
    today = ctx.get("today") or clock.today()
    bulk = current_app.config.get("DEMO_SALES", not current_app.testing)
    by_id = {u.id: u for u in reps}

    plans = []
    # A handful always: for every rep, one in each open stage on a customer of theirs.
    for rep in reps:
        own = [c for c in customers if c.owner_id == rep.id] or customers
        for i, stage in enumerate(OPEN_STAGES):
            customer = own[i % len(own)]
            start = now - timedelta(days=10 + 9 * i, hours=rng.randint(1, 8))
            plans.append(_make(rng, customer, rep, products, now, today, start, stage))
    if bulk:
        for _ in range(150):
            customer = rng.choice(customers)
            owner = by_id.get(customer.owner_id) or rng.choice(reps)
            plans.append(_make(rng, customer, owner, products, now, today))
    made = [_play(*plan) for plan in plans]
    db.session.flush()
    ctx["products"] = products
    ctx["opportunities"] = made
