"""Demo expense claims: about 200 over the past twelve months, in every state.

Every submitted claim goes through the approval engine as the right people
(department head, finance, company leader), so each has real requests, steps and
a timeline; afterwards the timestamps are moved back to when things "happened"
(the days after the expense). Included on purpose, for the monitoring rules: two
claims with the same invoice number, one claim far above its category's median,
and a claim split into three on one day to stay under ¥5,000 each.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select, update
from werkzeug.datastructures import FileStorage

from mktapp.core import approvals as engine
from mktapp.core.attachments import save_upload
from mktapp.core.notify import PENDING_KEY
from mktapp.core.numbering import next_number
from mktapp.expense import claims as svc
from mktapp.expense.common import budget_remaining
from mktapp.extensions import db
from mktapp.models import (
    ApprovalEvent,
    ApprovalRequest,
    ExpenseClaim,
    Notification,
    User,
    utcnow,
)

# category -> (reasons, lowest, highest amount in yuan)
REASONS: dict[str, tuple[list[str], int, int]] = {
    "research": (
        [
            "问卷星企业版年费及样本采购",
            "购买行业研究报告（智能办公设备市场）",
            "竞品门店实地调研差旅（杭州、宁波）",
            "用户深度访谈礼品及会议室租用",
            "第三方电话调研服务费",
        ],
        600,
        6000,
    ),
    "brand": (
        [
            "品牌宣传册设计及印刷 500 册",
            "公众号推文代写及排版（4 篇）",
            "品牌短视频拍摄与剪辑",
            "展台物料制作（易拉宝、海报、背景板）",
            "企业宣传片配音及字幕制作",
        ],
        800,
        12000,
    ),
    "activity": (
        [
            "春季新品发布会场地租赁",
            "客户答谢会餐饮及场地布置",
            "行业展会展位费分摊",
            "线下产品体验沙龙茶歇及物料",
            "渠道伙伴交流会会务费",
        ],
        1500,
        18000,
    ),
    "advertising": (
        [
            "百度搜索推广账户充值",
            "微信朋友圈广告投放（华东地区）",
            "行业杂志半版广告",
            "地铁站灯箱广告（一个月）",
            "抖音信息流广告投放",
        ],
        3000,
        28000,
    ),
    "commission": (
        [
            "大客户回款销售提成",
            "季度销售目标达成奖励提成",
            "新签客户首单提成",
        ],
        1500,
        12000,
    ),
    "customer": (
        [
            "拜访苏州重点客户差旅（高铁、住宿）",
            "客户商务宴请餐费",
            "中秋客户礼品（月饼礼盒 20 盒）",
            "重点客户回访交通费",
            "客户培训会茶歇",
            "春节客户慰问礼品",
        ],
        150,
        2600,
    ),
    "other": (
        [
            "名片及宣传单页印刷",
            "样品快递费",
            "客户拜访打车费",
            "营销资料复印装订",
        ],
        40,
        700,
    ),
}

# Who claims what (username -> categories), and how often (weight).
CLAIMANTS: dict[str, tuple[tuple[str, ...], int]] = {
    "sales1": (("customer", "customer", "commission", "activity", "other"), 6),
    "sales2": (("customer", "customer", "commission", "other"), 5),
    "sales3": (("customer", "activity", "commission", "other"), 4),
    "market1": (("research", "brand", "advertising", "activity"), 4),
    "market2": (("research", "brand", "advertising", "other"), 5),
    "service1": (("customer", "other", "activity"), 3),
    "service2": (("customer", "other"), 3),
    "manager": (("activity", "advertising", "brand"), 1),
}

APPROVE_COMMENTS = [
    "",
    "",
    "",
    "同意。",
    "情况属实，同意报销。",
    "已核对发票，无误。",
    "同意，注意控制费用。",
]
REJECT_REASONS = [
    "发票抬头与公司名称不符，请重新开具后提交。",
    "缺少活动签到表和照片，请补充附件。",
    "报销金额与发票金额不一致，请核对。",
    "该费用应列入市场活动费，请修改类别后重新提交。",
    "超出预算且说明不充分，请补充具体原因。",
]
BANKS = ["招商银行", "工商银行", "建设银行", "中国银行"]

TARGET = 200


def tiny_pdf(text: str) -> bytes:
    """A small valid one-page PDF showing `text` (ASCII), used as a demo receipt."""
    stream = f"BT /F1 14 Tf 40 120 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


class Seeder:
    def __init__(self, users: dict[str, User], rng: random.Random):
        self.users = users
        self.rng = rng
        self.tz = ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai"))
        self.now = utcnow()
        self.today = self.now.astimezone(self.tz).date()
        self.times: dict[int, list[datetime]] = {}  # claim id -> when each event happened
        self.role_people = {
            "marketing_manager": users["manager"],
            "finance": users["finance1"],
            "executive": users["boss"],
        }
        self.invoice_seq = 0
        self.pay_seq = 0

    # --- time ---------------------------------------------------------------

    def moment(self, day: date, hour: int | None = None) -> datetime:
        hour = hour if hour is not None else self.rng.randint(9, 17)
        local = datetime.combine(day, time(hour, self.rng.randint(0, 59)), self.tz)
        return local.astimezone(UTC)

    def schedule(self, incurred: date, steps: int) -> list[datetime]:
        """`steps` moments after the expense, a few hours to two days apart, all in the past."""
        start = self.moment(incurred + timedelta(days=self.rng.randint(0, 3)))
        gaps = [timedelta(hours=self.rng.randint(3, 40)) for _ in range(steps)]
        latest = self.now - timedelta(minutes=20)
        total = sum(gaps, timedelta())
        if start + total > latest:
            room = max(timedelta(minutes=steps * 10), latest - start)
            if start > latest - room:
                start = latest - room
            gaps = [room * (g / total) for g in gaps] if total else gaps
        out, moment = [], start
        for gap in gaps:
            moment = moment + gap
            out.append(moment)
        return out

    # --- claims ---------------------------------------------------------------

    def amount(self, category: str) -> Decimal:
        _reasons, low, high = REASONS[category]
        value = self.rng.triangular(low, high, low + (high - low) * 0.3)
        if value > 1000:
            value = round(value / 10) * 10
        cents = self.rng.choice([0, 0, 0, 50]) if value < 1000 else 0
        return Decimal(int(value)) + Decimal(cents) / 100

    def invoice(self, day: date) -> str:
        self.invoice_seq += 1
        return f"{day:%y}{self.rng.randint(31000000, 44999999)}{self.invoice_seq:04d}"

    def make(
        self,
        owner: str,
        category: str,
        incurred: date,
        amount: Decimal | None = None,
        reason: str | None = None,
        invoice: str | None = None,
    ) -> ExpenseClaim:
        user = self.users[owner]
        reasons = REASONS[category][0]
        amount = amount if amount is not None else self.amount(category)
        method = self.rng.choice(["bank", "bank", "bank", "card", "alipay", "cash"])
        claim = ExpenseClaim(
            owner_id=user.id,
            number="",
            category=category,
            reason=reason or self.rng.choice(reasons),
            amount=amount,
            incurred_on=incurred,
            payment_method=method,
            payee_account=(
                f"{self.rng.choice(BANKS)} 6225 **** **** {self.rng.randint(1000, 9999)} "
                f"{user.display_name}"
                if method == "bank"
                else ""
            ),
            invoice_number=invoice if invoice is not None else self.invoice(incurred),
            status="draft",
        )
        claim.owner = user
        created_year = min(incurred + timedelta(days=1), self.today).year
        claim.number = next_number("BX", created_year)
        db.session.add(claim)
        db.session.flush()
        self.times[claim.id] = []
        if amount > Decimal("500"):
            self.receipt(claim, user)
        return claim

    def receipt(self, claim: ExpenseClaim, user: User) -> None:
        # Tiny generated PDFs for a share of the claims (writing a file for each would be slow).
        if self.rng.random() > 0.3:
            return
        data = tiny_pdf(f"Invoice {claim.invoice_number}  CNY {claim.amount}")
        upload = FileStorage(
            stream=BytesIO(data), filename=f"发票-{claim.invoice_number}.pdf", name="file"
        )
        save_upload(upload, claim, user)

    def justify_if_over(self, claim: ExpenseClaim) -> None:
        _budget, _spent, remaining = budget_remaining(
            claim.category, claim.incurred_on.year, claim.incurred_on.month
        )
        if claim.amount > remaining:
            claim.over_budget_reason = self.rng.choice(
                [
                    "本月活动集中，费用已与营销经理沟通确认，后续月份压缩同类支出。",
                    "客户临时增加需求，费用不可推迟，已口头报备。",
                    "预算编制时未考虑该项目，经理同意先行支出。",
                ]
            )

    # --- the flow -------------------------------------------------------------

    def approver(self, step) -> User:
        if step.assignee_user_id is not None:
            return db.session.get(User, step.assignee_user_id)
        return self.role_people[step.assignee_role]

    def submit(self, claim: ExpenseClaim) -> None:
        self.justify_if_over(claim)
        engine.submit(claim, claim.owner)

    def decide(self, claim: ExpenseClaim, outcome: str = "approve") -> None:
        step = engine.pending_step(engine.current_request(claim))
        actor = self.approver(step)
        if outcome == "approve":
            engine.approve(step.id, actor, self.rng.choice(APPROVE_COMMENTS))
        else:
            engine.reject(step.id, actor, self.rng.choice(REJECT_REASONS))

    def run(self, claim: ExpenseClaim, plan: list[str]) -> None:
        """Play a plan: submit / approve / reject / withdraw / pay / resubmit (edit and submit),
        each at its planned moment (the engine's records are moved there by backdate())."""
        stamps = self.schedule(claim.incurred_on, len(plan) + 1)
        moments = stamps[1:]
        approvals = [s for s, a in zip(moments, plan, strict=True) if a == "approve"]
        for action, when in zip(plan, moments, strict=True):
            if action in ("submit", "resubmit"):
                if action == "resubmit":
                    claim.reason = claim.reason + "（已按审批意见补充材料）"
                self.submit(claim)
            elif action == "approve":
                self.decide(claim, "approve")
            elif action == "reject":
                self.decide(claim, "reject")
            elif action == "withdraw":
                engine.withdraw(claim, claim.owner)
            elif action == "pay":
                # Paid after the approval's planned moment, as backdate() will leave it.
                claim.approved_at = approvals[-1]
                self.pay_seq += 1
                svc.record_payment(
                    self.users["finance1"],
                    claim,
                    when.astimezone(self.tz).date(),
                    f"ZF{self.today:%Y}{self.pay_seq:05d}",
                    self.today,
                )
        claim.created_at = claim.updated_at = stamps[0] - timedelta(hours=1)
        self.times[claim.id] = [s for s, a in zip(moments, plan, strict=True) if a != "pay"]
        for when, action in zip(moments, plan, strict=True):
            if action in ("submit", "resubmit"):
                claim.submitted_at = when
        if claim.status in ("approved", "paid"):
            claim.approved_at = approvals[-1]

    # --- timestamps ---------------------------------------------------------------

    def backdate(self) -> None:
        """Move each event, step and round of the demo claims to its planned moment."""
        events = db.session.scalars(
            select(ApprovalEvent)
            .where(
                ApprovalEvent.doc_type == "ExpenseClaim",
                ApprovalEvent.doc_id.in_(list(self.times)),
            )
            .order_by(ApprovalEvent.doc_id, ApprovalEvent.id)
        ).all()
        by_claim: dict[int, list[ApprovalEvent]] = {}
        for event in events:
            by_claim.setdefault(event.doc_id, []).append(event)

        requests = db.session.scalars(
            select(ApprovalRequest).where(
                ApprovalRequest.doc_type == "ExpenseClaim",
                ApprovalRequest.doc_id.in_(list(self.times)),
            )
        ).all()
        rounds = {(r.doc_id, r.id): r for r in requests}
        for claim_id, items in by_claim.items():
            stamps = self.times.get(claim_id, [])
            for event, when in zip(items, stamps, strict=False):
                event.at = when
                request = rounds.get((claim_id, event.request_id))
                if request is None:
                    continue
                if event.action == "submit":
                    request.submitted_at = when
                else:
                    if request.status != "pending":
                        request.decided_at = when
                    for step in request.steps:
                        if step.code == event.step_code and step.decided_at is not None:
                            step.decided_at = when

    def quiet_history(self) -> None:
        """Old news is read: only notifications about claims still open stay unread."""
        db.session.flush()
        db.session.execute(
            update(Notification)
            .where(Notification.read_at.is_(None))
            .values(read_at=self.now)
            .execution_options(synchronize_session=False)
        )
        open_ids = db.session.scalars(
            select(ExpenseClaim.id).where(
                ExpenseClaim.status.in_(["pending", "rejected", "approved"])
            )
        ).all()
        urls = [svc.FLOW.url(i) for i in open_ids]
        if urls:
            db.session.execute(
                update(Notification)
                .where(
                    Notification.url.in_(urls),
                    Notification.created_at >= self.now,
                    # A notice whose task is done (a step decided, a round over) stays done.
                    Notification.resolved_at.is_(None),
                )
                .values(read_at=None)
                .execution_options(synchronize_session=False)
            )
        # Demo history sends no e-mail.
        db.session.info.pop(PENDING_KEY, None)


def _plan_for(age: int, rng: random.Random, leader: bool = True) -> list[str]:
    full = ["submit", "approve", "approve"] + (["approve"] if leader else [])
    if age > 45:
        choice = rng.choices(
            ["paid", "returned_paid", "withdrawn", "rejected", "finance_returned_paid"],
            weights=[78, 7, 4, 5, 6],
        )[0]
    elif age > 18:
        choice = rng.choices(
            ["paid", "approved", "returned_paid", "rejected", "withdrawn", "leader", "draft"],
            weights=[50, 16, 8, 8, 5, 8, 5],
        )[0]
    else:
        choice = rng.choices(
            [
                "draft",
                "head",
                "finance",
                "leader",
                "approved",
                "paid",
                "rejected",
                "withdrawn",
                "resubmitted",
            ],
            weights=[12, 18, 16, 12, 14, 8, 8, 5, 7],
        )[0]
    if choice == "paid":
        return [*full, "pay"]
    if choice == "approved":
        return full
    if choice == "returned_paid":
        return ["submit", "reject", "resubmit", *full[1:], "pay"]
    if choice == "finance_returned_paid":
        return ["submit", "approve", "reject", "resubmit", *full[1:], "pay"]
    if choice == "rejected":
        return rng.choice([["submit", "reject"], ["submit", "approve", "reject"]])
    if choice == "withdrawn":
        return ["submit", "withdraw"]
    if choice == "draft":
        return []
    if choice == "head":
        return ["submit"]
    if choice == "finance":
        return ["submit", "approve"]
    if choice == "leader":
        return ["submit", "approve", "approve"] if leader else ["submit", "approve"]
    if choice == "resubmitted":
        return ["submit", "approve", "reject", "resubmit", "approve"]
    return full


def seed(ctx: dict) -> None:
    """About 200 claims over the past twelve months, through the approval engine.

    Skipped under the test configuration (the `demo` fixture seeds for every test;
    200 claims through the engine would make the suite ten times slower) unless the
    config says DEMO_CLAIMS = True, as the browser tests' live server does.
    """
    if not current_app.config.get("DEMO_CLAIMS", not current_app.testing):
        return
    users: dict[str, User] = ctx["users"]
    rng = random.Random(20260301)
    seeder = Seeder(users, rng)
    leader_always = svc.leader_threshold() <= 0
    today = seeder.today
    names = list(CLAIMANTS)
    weights = [CLAIMANTS[n][1] for n in names]
    # (owner, category, incurred) in date order, so budgets are used up as in real life.
    plans = []
    for n in range(TARGET - 6):
        owner = rng.choices(names, weights=weights)[0]
        category = rng.choice(CLAIMANTS[owner][0])
        # Spread over the year, with the last weeks busier (that is where open claims are).
        age = rng.randint(0, 24) if n % 5 == 0 else rng.randint(0, 362)
        plans.append((today - timedelta(days=age), owner, category))
    plans.sort()
    for incurred, owner, category in plans:
        age = (today - incurred).days
        claim = seeder.make(owner, category, incurred)
        plan = _plan_for(age, rng, leader=leader_always or claim.amount >= svc.leader_threshold())
        seeder.run(claim, plan)

    # Anomalies for the monitoring rules (P6.3).
    # 1. The same invoice claimed twice, by two people, a week apart.
    day = today - timedelta(days=40)
    invoice = f"{day:%y}31088{rng.randint(100000, 999999)}"
    first = seeder.make("sales2", "customer", day, Decimal("1280.00"), "客户商务宴请餐费", invoice)
    seeder.run(first, ["submit", "approve", "approve", "approve", "pay"])
    second = seeder.make(
        "service2", "customer", day + timedelta(days=7), Decimal("1280.00"), "客户招待餐费", invoice
    )
    seeder.run(second, ["submit", "approve", "approve", "approve"])
    # 2. One claim far above its category's usual amount.
    big = seeder.make(
        "sales1",
        "customer",
        today - timedelta(days=25),
        Decimal("18600.00"),
        "年度重点客户答谢宴及礼品（12 家客户）",
    )
    seeder.run(big, ["submit", "approve", "approve", "approve"])
    # 3. One outing split into three claims on the same day (together over ¥5,000).
    split_day = today - timedelta(days=12)
    for amount, reason in (
        ("1980.00", "渠道伙伴交流会场地费"),
        ("1850.00", "渠道伙伴交流会餐饮费"),
        ("1760.00", "渠道伙伴交流会物料费"),
    ):
        part = seeder.make("sales2", "activity", split_day, Decimal(amount), reason)
        seeder.run(part, ["submit", "approve"])
    db.session.flush()
    seeder.backdate()
    seeder.quiet_history()
    ctx["claims"] = len(seeder.times)
