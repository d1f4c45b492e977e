"""Demo after-sales service (P5.3–P5.5), only when DEMO_SERVICE is on (the default outside
the test suite, whose ticket tests start from none).

The administrator adds a 技术部 (led by 黄丽, who does the repairs) and routes the ticket
types: repairs to 技术部, returns and disputes to the 业务组 (its leader by default),
enquiries and complaints to the 客服组. Then about 150 tickets over the last six months,
mostly for customers with a signed contract, go through the services in time order, each
step under the clock moved to the minute it happened (`core.clock.at`): received, started,
paused waiting for parts or the customer and resumed, resolved with cost lines, replied
to, closed and rated by the customer through the satisfaction link; some answered late
(their deadline missed), some reopened, some still waiting to be closed. The hourly scan
runs in the past too, each working morning. The newest open tickets give the agents' desks
of today a couple of tickets close to their limit and one past it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, or_, select, update
from werkzeug.datastructures import MultiDict

from mktapp.core import clock, workcal
from mktapp.core.notify import PENDING_KEY
from mktapp.extensions import db
from mktapp.models import (
    Contact,
    Contract,
    ContractLine,
    Customer,
    Notification,
    Product,
    ServiceDepartment,
    Survey,
    SurveyInvitation,
    SurveyQuestion,
    Ticket,
    User,
    utcnow,
)
from mktapp.models.service import OPEN_STATUSES
from mktapp.research import public as research
from mktapp.research import surveys
from mktapp.service import departments as depts
from mktapp.service import sla
from mktapp.service import tickets as svc

COUNT = 150  # tickets in all, the open ones on today's desks included
DAYS = 180  # received over this many days before today
AWAITING_CLOSE = 22  # resolved or replied to, not closed yet (mostly the last six weeks)
SIGNED = ("signed", "executing", "completed", "terminated")
TYPES = {"consult": 30, "complaint": 20, "repair": 30, "return": 10, "dispute": 10}
PRIORITIES = {"urgent": 8, "high": 25, "medium": 47, "low": 20}
CHANNELS = {"phone": 40, "wechat": 25, "email": 10, "visit": 8, "web": 17}
# Outside working time only what customers send on their own arrives.
SELF_SERVICE = ("wechat", "web", "email")
# Tickets open today, newest first in effect: (status, type, priority, the share of the
# time limit it runs to already used). Two are close to their limit, one is past it.
DESK = (
    ("in_progress", "repair", "high", 0.86),  # due soon: resolve within the day
    ("in_progress", "complaint", "medium", 0.85),  # due soon: resolve within the day
    ("received", "consult", "high", 1.4),  # its first response is late
    ("received", "complaint", "medium", 0.15),
    ("received", "consult", "low", 0.05),
    ("in_progress", "return", "medium", 0.35),
    ("in_progress", "dispute", "low", 0.5),
    ("in_progress", "consult", "medium", 0.3),  # reopened this morning
    ("received", "repair", "low", 0.5),
    ("waiting_parts", "repair", "high", 0.5),
    ("waiting_parts", "repair", "medium", 0.3),
    ("waiting_parts", "return", "low", 0.4),
    ("waiting_customer", "consult", "low", 0.3),
    ("waiting_customer", "dispute", "medium", 0.45),
    ("waiting_customer", "complaint", "medium", 0.2),
)
REOPENED_DESK = 7  # the index in DESK of the ticket reopened today

SUBJECTS = {
    "consult": [
        ("咨询会议平板投屏设置方法", "客户新入职的行政人员不会使用无线投屏，询问操作步骤。"),
        ("咨询协同办公软件新增用户授权", "客户新增 15 名员工，询问追加用户授权的价格和开通时间。"),
        ("询问年度维保服务续费流程", "维保服务下月到期，客户询问续费方式和是否有优惠。"),
        ("咨询设备管理平台数据备份方法", "客户 IT 询问平台数据库的定期备份和恢复方法。"),
        ("询问发票开具进度", "客户财务询问本月到货款对应发票的开具和邮寄时间。"),
        ("咨询会议平板系统升级", "客户看到系统升级提示，询问升级是否会影响已安装的软件。"),
        ("咨询智能办公终端扩容", "客户希望为办公终端加装内存，询问是否影响保修。"),
    ],
    "complaint": [
        (
            "投诉安装人员未按约定时间上门",
            "客户反映约好上午十点安装调试，工程师下午两点才到，影响了会议安排。",
        ),
        ("投诉维修后问题再次出现", "上月维修过的会议平板又出现同样的故障，客户对维修质量不满。"),
        ("投诉客服电话长时间无人接听", "客户中午连续拨打服务热线二十分钟无人接听。"),
        ("投诉配件发货延迟", "承诺三天内到货的配件一周后仍未发出，客户要求给出明确时间。"),
        ("投诉培训内容与合同约定不符", "客户认为现场培训时间不足半天，部分功能没有讲到。"),
        ("投诉工程师服务态度", "客户反映上门工程师沟通生硬，未说明故障原因就离开。"),
    ],
    "repair": [
        ("会议平板无法开机", "客户来电：会议平板昨天起按电源键无反应，指示灯不亮。"),
        ("触控失灵，部分区域无响应", "屏幕右下角约十厘米区域触控无响应，书写时断线。"),
        ("无线投屏器频繁断连", "投屏过程中每隔几分钟断开一次，需要重新配对。"),
        ("智能办公终端开机蓝屏", "两台办公终端开机后蓝屏，提示硬盘错误。"),
        ("设备管理平台无法登录", "平台登录页提示服务异常，全部用户无法登录。"),
        ("会议平板屏幕出现竖线", "屏幕中间出现两条彩色竖线，重启后依旧。"),
        ("会议平板无声音输出", "外接音箱和内置扬声器都没有声音，系统音量正常。"),
    ],
    "return": [
        ("投屏器外壳破损，申请换货", "到货开箱发现两台投屏器外壳开裂，客户要求换新。"),
        ("到货型号与合同不符，申请退换", "合同约定 86 英寸，实际到货为 75 英寸，客户要求更换。"),
        ("办公终端配置不符，要求更换", "到货终端内存为 8G，与合同约定的 16G 不符。"),
        ("多发货物申请退回", "客户收到的数量比订单多两套，联系我们安排退回。"),
    ],
    "dispute": [
        ("对验收款金额存在异议", "客户认为部分设备未验收完毕，不同意按全额支付验收款。"),
        ("对维保服务范围理解不一致", "客户认为配件更换应包含在维保服务内，不同意另行付费。"),
        ("对延迟交货违约金存在争议", "客户要求按合同扣除延迟交货违约金，金额双方理解不一致。"),
        ("发票抬头错误引起付款争议", "客户财务以发票抬头有误为由暂停付款。"),
    ],
}
RESOLUTIONS = {
    "consult": [
        "已远程演示投屏操作，并发送图文操作指南。",
        "已说明授权价格和开通流程，报价单已发给客户。",
        "已告知续费流程，并转业务员跟进续约报价。",
        "已提供备份脚本和操作说明，客户 IT 已完成首次备份。",
        "已与财务确认开票时间，发票将于三个工作日内寄出。",
        "已说明本次升级只更新系统组件，不影响已安装软件，并远程指导完成升级。",
        "已说明由我司工程师加装内存不影响保修，已安排上门加装。",
    ],
    "complaint": [
        "已向客户致歉，调整排班，承诺此后上门提前一天确认时间。",
        "已安排资深工程师复查并更换主板，跟进一周运行正常。",
        "已增加午间值班人员，并向客户致歉说明。",
        "已协调仓库加急发货，配件次日送达。",
        "已补充安排一次半天的现场培训。",
        "已与当事工程师沟通并由主管回访致歉，此后改派其他工程师服务该客户。",
    ],
    "repair": [
        "上门检测为电源板故障，已更换电源板，开机测试正常。",
        "更换触控框并重新校准，书写测试正常。",
        "升级投屏器固件并更换无线模块，连续测试两小时无断连。",
        "更换固态硬盘并重装系统，数据已从备份恢复。",
        "平台证书过期导致无法登录，已更新证书并恢复服务。",
        "更换屏幕排线后竖线消失，显示正常。",
    ],
    "return": [
        "已为客户更换新品，破损货物已回收。",
        "已安排调换为合同约定型号，旧机已回收。",
        "已更换为 16G 配置的终端，并补签到货单。",
        "已安排物流上门取回多发的货物。",
    ],
    "dispute": [
        "与客户逐项核对验收清单，双方确认剩余设备三日内完成验收后付款。",
        "经协商，本次配件按成本价收取，双方书面确认维保范围。",
        "按合同条款核算违约金，双方签字确认金额。",
        "已重开正确抬头的发票，客户确认按期付款。",
    ],
}
REPLIES = [
    "已电话告知客户处理结果，客户确认问题已解决。",
    "已通过微信发送处理结果和操作说明，客户表示满意。",
    "已邮件回复处理结果并附上服务报告。",
    "已电话回访，客户确认设备运行正常。",
]
PAUSE_NOTES = {
    "waiting_parts": [
        "需更换配件，已向厂家下单，预计三个工作日到货。",
        "仓库无备件，等待厂家调货。",
        "等待换新货物从仓库发出。",
    ],
    "waiting_customer": [
        "等待客户提供设备序列号和故障照片。",
        "客户负责人出差，约定下周回来后再沟通。",
        "等待客户确认上门时间。",
        "等待客户内部确认验收意见。",
    ],
}
NOTES = [
    "已电话联系客户，约定明天上午上门检测。",
    "查询合同，设备仍在保修期内。",
    "客户为重点客户，请优先处理。",
    "已远程查看日志，初步判断为硬件故障。",
    "与业务员确认了合同约定的服务范围。",
]
REOPEN_REASONS = [
    "客户反馈问题再次出现。",
    "客户表示处理结果与约定不一致，要求重新处理。",
    "回访时发现仍有部分设备存在同样问题。",
]
REASSIGN_REASONS = {
    "service": "该客户设备一直由黄丽跟进，转交处理。",
    "sales": "转客户的负责业务员处理。",
}
COMMENTS = {
    5: ["响应很及时，工程师很专业。", "问题一次解决，非常满意。", "服务周到，感谢！", ""],
    4: ["处理得不错，就是等配件时间有点长。", "整体满意，希望以后响应再快一点。", ""],
    3: ["问题解决了，但沟通不够主动。", "等待时间偏长。"],
    2: ["前后联系了好几次才解决。"],
    1: ["处理太慢，影响了我们的正常使用。"],
}
RATINGS = {5: 45, 4: 33, 3: 14, 2: 5, 1: 3}
PARTS = [
    ("电源板", "680.00"),
    ("触控框", "1250.00"),
    ("主板", "2300.00"),
    ("无线模块", "260.00"),
    ("固态硬盘", "420.00"),
    ("屏幕排线", "150.00"),
]
LABOUR_RATE = Decimal("180.00")


def _resolution_of(plan) -> str:
    """How the problem of this subject was solved (the lists go in the same order)."""
    subjects = [title for title, _description in SUBJECTS[plan.ticket_type]]
    solved = RESOLUTIONS[plan.ticket_type]
    return solved[subjects.index(plan.title) % len(solved)] if plan.title in subjects else solved[0]


# How each reply was given (REPLIES in order): phone, WeChat, e-mail, phone.
REPLY_CHANNELS = ("phone", "wechat", "email", "phone")


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), list(weights.values()))[0]


@dataclass
class _Plan:
    """One ticket to be: what is received, and its steps as (moment, action, details)."""

    received: datetime
    ticket_type: str
    priority: str
    channel: str
    customer_id: int
    contact_id: int | None
    contract_id: int | None
    product_id: int | None
    receiver: User
    title: str
    description: str
    steps: list[tuple[datetime, str, dict]] = field(default_factory=list)
    ticket: Ticket | None = None


class _Seeder:
    def __init__(self, ctx: dict, rng: random.Random):
        self.rng = rng
        self.users: dict[str, User] = ctx["users"]
        self.today: date = ctx["today"]
        self.now: datetime = clock.now()
        self.calendar = workcal.company_calendar()
        self.limits = sla.matrix()
        self.agents = [self.users["service1"], self.users["service2"]]
        self.products = list(
            db.session.scalars(select(Product.id).where(Product.archived_at.is_(None)))
        )
        self._load_customers()
        self._rating_keys: dict[str, int] | None = None

    # --- who and what ------------------------------------------------------------------------

    def _load_customers(self) -> None:
        """Signed contracts (customer, contract, first product, signing day, owner) and every
        customer with its primary contact."""
        self.contracts = db.session.execute(
            select(Contract.id, Contract.customer_id, Contract.signed_on, Contract.owner_id)
            .where(Contract.status.in_(SIGNED), Contract.signed_on.is_not(None))
            .order_by(Contract.id)
        ).all()
        firsts = db.session.execute(
            select(ContractLine.contract_id, func.min(ContractLine.product_id)).group_by(
                ContractLine.contract_id
            )
        ).all()
        self.contract_product = dict(firsts)
        self.customers = db.session.execute(
            select(Customer.id, Customer.owner_id)
            .where(Customer.archived_at.is_(None))
            .order_by(Customer.id)
        ).all()
        self.contacts: dict[int, int] = {}
        for customer_id, contact_id, primary in db.session.execute(
            select(Contact.customer_id, Contact.id, Contact.is_primary).order_by(Contact.id)
        ):
            if primary or customer_id not in self.contacts:
                self.contacts[customer_id] = contact_id

    def _party(self, day: date, ticket_type: str) -> tuple[int, int | None, int | None, int | None]:
        """(customer, contract, product, the rep who owns both): a customer with a contract
        signed a week before `day` where there is one (a question often comes from anyone)."""
        rng = self.rng
        wants_contract = rng.random() < (0.5 if ticket_type == "consult" else 0.92)
        eligible = [c for c in self.contracts if c.signed_on <= day - timedelta(days=7)]
        if wants_contract and eligible:
            contract = rng.choice(eligible)
            owners = {o for cid, o in self.customers if cid == contract.customer_id}
            rep = contract.owner_id if owners == {contract.owner_id} else None
            return contract.customer_id, contract.id, None, rep
        customer_id, _owner = rng.choice(self.customers)
        product = rng.choice(self.products) if self.products and rng.random() < 0.4 else None
        return customer_id, None, product, None

    def _plan(self, received: datetime, ticket_type: str, priority: str, channel: str) -> _Plan:
        rng = self.rng
        day = clock.local_date(received)
        customer_id, contract_id, product_id, rep = self._party(day, ticket_type)
        receiver = rng.choice(self.agents)
        if channel == "visit" and rep is not None:
            receiver = db.session.get(User, rep)  # told the rep on a visit: the rep records it
        title, description = rng.choice(SUBJECTS[ticket_type])
        return _Plan(
            received=received,
            ticket_type=ticket_type,
            priority=priority,
            channel=channel,
            customer_id=customer_id,
            contact_id=self.contacts.get(customer_id),
            contract_id=contract_id,
            product_id=product_id,
            receiver=receiver,
            title=title,
            description=description,
        )

    # --- when -------------------------------------------------------------------------------

    def _received_on(self, age: int) -> tuple[datetime, str]:
        """A moment `age` days ago in working hours (a working day, mostly) and the channel."""
        rng = self.rng
        day = self.today - timedelta(days=age)
        channel = _pick(rng, CHANNELS)
        minute = rng.randint(9 * 60, 17 * 60 + 29)
        working = self.calendar.is_working_day(day)
        if not working:
            channel = rng.choice(SELF_SERVICE)
        elif channel not in SELF_SERVICE and 12 * 60 <= minute < 13 * 60 + 30:
            minute += 90  # nobody picks up the phone at lunch
        local = datetime.combine(day, time(minute // 60, minute % 60, rng.randint(0, 59)))
        return local.replace(tzinfo=clock.zone()).astimezone(UTC), channel

    def _back(self, minutes: float) -> datetime:
        """The latest moment from which `minutes` working minutes have passed by now."""
        lo, hi = self.now - timedelta(days=90), self.now
        for _ in range(40):
            mid = lo + (hi - lo) / 2
            if workcal.working_minutes_between(mid, self.now) >= minutes:
                lo = mid
            else:
                hi = mid
        return lo.replace(microsecond=0)

    def _place(self, plan: _Plan, script: list[tuple[float, str, dict]], fit: bool) -> None:
        """Turn working minutes after receipt into moments (compressed to end before now when
        `fit`; a rating comes real minutes after the closing); steps that would fall after
        now, and a rating after the link's end, are left out."""
        rng = self.rng
        work = [s for s in script if s[1] != "rate"]
        rate = [s for s in script if s[1] == "rate"]
        if fit and work:
            room = workcal.working_minutes_between(plan.received, self.now) - 5
            last = max(offset for offset, _a, _d in work)
            if last > room > 0:
                work = [(offset * room / last, a, d) for offset, a, d in work]
        previous = plan.received
        plan.steps = [(plan.received, "receive", {})]
        closed = None
        for offset, action, details in work + rate:
            if action == "rate":
                moment = previous + timedelta(minutes=offset)
                if closed is None or moment > closed + timedelta(days=svc.SATISFACTION_DAYS - 1):
                    break
            else:
                moment = workcal.add_working_minutes(plan.received, int(offset))
                moment += timedelta(seconds=rng.randint(0, 59))
            moment = max(moment, previous + timedelta(seconds=1))
            if moment >= self.now - timedelta(minutes=1):
                break
            if action == "close" and closed is None:
                closed = moment  # the satisfaction link runs from the first closing
            plan.steps.append((moment, action, details))
            previous = moment

    # --- what happens -------------------------------------------------------------------------

    def _reassign(self, plan: _Plan, rep: int | None) -> dict | None:
        """Now and then the queue passes a ticket on: an enquiry or complaint to 黄丽, a
        return or dispute to the customer's own rep."""
        rng = self.rng
        if plan.ticket_type in ("consult", "complaint") and rng.random() < 0.2:
            return {"to": "service2", "reason": REASSIGN_REASONS["service"]}
        if plan.ticket_type in ("return", "dispute") and rep and rng.random() < 0.6:
            name = next((n for n, u in self.users.items() if u.id == rep), None)
            if name in ("sales1", "sales2"):
                return {"to": name, "reason": REASSIGN_REASONS["sales"]}
        return None

    def _costs(self, plan: _Plan) -> list[dict]:
        rng = self.rng
        lines: list[dict] = []
        if plan.ticket_type == "repair" and rng.random() < 0.85:
            hours = Decimal(rng.choice(["1", "1.5", "2", "3", "4"]))
            lines.append({"kind": "labour", "description": "检测维修", "hours": hours})
            if rng.random() < 0.6:
                name, amount = rng.choice(PARTS)
                lines.append({"kind": "parts", "description": name, "amount": Decimal(amount)})
            if plan.channel == "visit" or rng.random() < 0.5:
                amount = Decimal(rng.randrange(60, 390, 10))
                lines.append({"kind": "travel", "description": "上门交通费", "amount": amount})
        elif plan.ticket_type == "return" and rng.random() < 0.6:
            amount = Decimal(rng.randrange(80, 270, 10))
            lines.append({"kind": "other", "description": "退换货物流费", "amount": amount})
            lines.append({"kind": "labour", "description": "拆装调试", "hours": Decimal("1")})
        return lines

    def _rating(self, late: bool) -> int:
        rating = _pick(self.rng, RATINGS)
        if late and self.rng.random() < 0.5:
            rating = max(1, rating - 1)
        return rating

    def _script(self, plan: _Plan, outcome: str, reopen: bool, rep: int | None):
        """The steps of a ticket after its receipt, in working minutes after it."""
        rng = self.rng
        kind = plan.ticket_type
        response, resolution = self.limits[(kind, plan.priority)]
        late_response = rng.random() < 0.05
        late_resolution = rng.random() < 0.07
        steps: list[tuple[float, str, dict]] = []
        handover = self._reassign(plan, rep)
        if handover:
            steps.append((rng.randint(3, 20), "reassign", handover))
        quick = kind == "consult" and not late_response and rng.random() < 0.35
        if quick:  # answered on the spot
            resolved = rng.uniform(5, max(6, response * 0.6))
        else:
            started = response * (
                rng.uniform(1.1, 1.8) if late_response else rng.uniform(0.05, 0.7)
            )
            started = max(started, 25 if handover else 1)
            steps.append((started, "start", {}))
            active = resolution * (
                rng.uniform(1.05, 1.5) if late_resolution else rng.uniform(0.25, 0.9)
            )
            active = max(active, started + 30)
            waits = {"repair": 0.5, "return": 0.35, "dispute": 0.3, "complaint": 0.15}
            shift = 0.0
            if rng.random() < waits.get(kind, 0.1):
                waiting = (
                    "waiting_parts"
                    if kind in ("repair", "return") and rng.random() < 0.8
                    else "waiting_customer"
                )
                paused = started + (active - started) * rng.uniform(0.2, 0.6)
                shift = (
                    rng.uniform(450, 2250) if waiting == "waiting_parts" else rng.uniform(200, 1350)
                )
                note = rng.choice(PAUSE_NOTES[waiting])
                steps.append((paused, "pause", {"waiting": waiting, "note": note}))
                steps.append((paused + shift, "resume", {}))
            if rng.random() < 0.3:
                steps.append(
                    (started + (active - started) * 0.1, "note", {"body": rng.choice(NOTES)})
                )
            resolved = active + shift
        for line in self._costs(plan):
            steps.append((resolved, "cost", line))
        steps.append((resolved, "resolve", {"text": _resolution_of(plan)}))
        if outcome == "resolved":
            return sorted(steps, key=lambda s: s[0])
        agent = rng.choice(["service1", "service1", "service2"])
        replied = resolved + rng.uniform(10, 240)
        steps.append((replied, "reply", {"by": agent, "text": rng.choice(REPLIES)}))
        if outcome == "replied":
            return sorted(steps, key=lambda s: s[0])
        closed = replied + rng.uniform(30, 900)
        steps.append((closed, "close", {"by": agent}))
        if reopen:
            again = closed + rng.uniform(450, 2700)
            steps.append((again, "reopen", {"by": agent, "reason": rng.choice(REOPEN_REASONS)}))
            fixed = again + rng.uniform(120, 900)
            steps.append((fixed, "resolve", {"text": _resolution_of(plan)}))
            steps.append((fixed + rng.uniform(10, 120), "reply", {"by": agent, "text": REPLIES[3]}))
            closed = fixed + rng.uniform(150, 600)
            steps.append((closed, "close", {"by": agent}))
        steps.sort(key=lambda s: s[0])
        if rng.random() < 0.85:
            rating = self._rating(late_response or late_resolution or reopen)
            # Real minutes after the closing (customers answer in the evening too).
            steps.append((rng.uniform(60, 6 * 24 * 60), "rate", {"rating": rating}))
        return steps

    def generic(self, count: int) -> list[_Plan]:
        """Tickets of the last six months but today's open ones: closed, but the newest few
        dozen (resolved or replied to, waiting to be closed) and two older ones replied to
        and never closed; four reopened on the way."""
        rng = self.rng
        received = sorted(
            (self._received_on(rng.randint(1, DAYS)) for _ in range(count)),
            key=lambda r: r[0],
            reverse=True,
        )
        forgotten = set(rng.sample(range(count // 2, count), 2))
        reopen_left = 4
        awaiting = 0
        plans = []
        for n, (moment, channel) in enumerate(received):
            kind = _pick(rng, TYPES)
            priority = _pick(rng, PRIORITIES)
            if kind == "complaint" and priority == "low":
                priority = "medium"
            plan = self._plan(moment, kind, priority, channel)
            age = (self.now - moment).days
            outcome = "closed"
            if n in forgotten:
                outcome = "replied"
            elif awaiting < AWAITING_CLOSE - 2 and age <= 42 and (age <= 3 or rng.random() < 0.45):
                outcome = rng.choice(["resolved", "replied", "replied"])
                awaiting += 1
            reopen = outcome == "closed" and reopen_left > 0 and age > 30 and rng.random() < 0.06
            reopen_left -= reopen
            rep = next((c.owner_id for c in self.contracts if c.id == plan.contract_id), None)
            self._place(plan, self._script(plan, outcome, reopen, rep), fit=True)
            plans.append(plan)
        return plans

    def desk(self) -> list[_Plan]:
        """The open tickets of today (DESK)."""
        rng = self.rng
        plans = []
        for n, (status, kind, priority, share) in enumerate(DESK):
            response, resolution = self.limits[(kind, priority)]
            steps: list[tuple[float, str, dict]] = []
            if status == "received":
                total = share * response
            elif n == REOPENED_DESK:
                total = rng.uniform(1500, 2500)
                steps = [
                    (total * 0.02, "start", {}),
                    (total * 0.1, "resolve", {"text": ""}),  # the subject's, when done
                    (total * 0.15, "reply", {"by": "service1", "text": REPLIES[0]}),
                    (total * 0.3, "close", {"by": "service1"}),
                    (total - 60, "reopen", {"by": "service1", "reason": REOPEN_REASONS[0]}),
                ]
            elif status == "in_progress":
                total = share * resolution
                steps = [(min(response * 0.5, total * 0.3), "start", {})]
                if rng.random() < 0.5:
                    steps.append((total * 0.5, "note", {"body": rng.choice(NOTES)}))
            else:
                before = share * resolution
                waited = rng.uniform(300, 2400)
                total = before + waited
                note = rng.choice(PAUSE_NOTES[status])
                steps = [
                    (min(response * 0.5, before * 0.3), "start", {}),
                    (before, "pause", {"waiting": status, "note": note}),
                ]
            received = self._back(total)
            plan = self._plan(received, kind, priority, rng.choice(["phone", "wechat", "web"]))
            plan.received = received
            self._place(plan, steps, fit=False)
            plans.append(plan)
        return plans

    # --- doing it -------------------------------------------------------------------------------

    def _owner(self, ticket: Ticket) -> User:
        owner = db.session.get(User, ticket.owner_id) if ticket.owner_id else None
        return owner or self.users["service1"]

    def do(self, plan: _Plan, action: str, details: dict) -> None:
        if action == "receive":
            plan.ticket = svc.receive(
                plan.receiver,
                customer_id=plan.customer_id,
                channel=plan.channel,
                ticket_type=plan.ticket_type,
                priority=plan.priority,
                title=plan.title,
                description=plan.description,
                contact_id=plan.contact_id,
                contract_id=plan.contract_id,
                product_id=plan.product_id,
                received_at=plan.received,
            )
            return
        ticket = plan.ticket
        assert ticket is not None
        if action == "reassign":
            person = self.users[details["to"]]
            leader = ticket.department.leader if ticket.department else None
            by = leader if leader is not None and leader.id != person.id else self.users["service1"]
            if person.id != ticket.owner_id:
                svc.reassign(by, ticket, ticket.department_id, person.id, details["reason"])
        elif action == "start":
            svc.start(self._owner(ticket), ticket)
        elif action == "pause":
            svc.pause(self._owner(ticket), ticket, details["waiting"], details["note"])
        elif action == "resume":
            svc.resume(self._owner(ticket), ticket)
        elif action == "note":
            svc.add_note(self._owner(ticket), ticket, details["body"])
        elif action == "cost":
            svc.add_cost(
                self._owner(ticket),
                ticket,
                kind=details["kind"],
                description=details["description"],
                spent_on=clock.today(),
                amount=details.get("amount"),
                hours=details.get("hours"),
                rate=LABOUR_RATE if "hours" in details else None,
            )
        elif action == "resolve":
            svc.resolve(self._owner(ticket), ticket, details["text"] or _resolution_of(ticket))
        elif action == "reply":
            channel = REPLY_CHANNELS[REPLIES.index(details["text"])]
            svc.reply(self.users[details["by"]], ticket, channel, details["text"])
        elif action == "close":
            svc.close(self.users[details["by"]], ticket)
        elif action == "reopen":
            svc.reopen(self.users[details["by"]], ticket, details["reason"])
        elif action == "rate":
            self._rate(ticket, details["rating"])

    def _rate(self, ticket: Ticket, rating: int) -> None:
        """The customer answers the satisfaction link (the research chapter puts the rating
        on the ticket)."""
        invitation = db.session.get(SurveyInvitation, ticket.invitation_id or 0)
        if invitation is None or invitation.used_at is not None:
            return
        if invitation.expires_at is not None and invitation.expires_at <= clock.now():
            return
        if self._rating_keys is None:
            self._rating_keys = dict(
                db.session.execute(
                    select(SurveyQuestion.key, SurveyQuestion.id).where(
                        SurveyQuestion.survey_id == invitation.survey_id
                    )
                ).all()
            )
        keys = self._rating_keys
        answers = MultiDict({f"q{keys[research.RATING_KEY]}": str(rating)})
        comment = self.rng.choice(COMMENTS[rating])
        if comment:
            answers[f"q{keys[research.COMMENT_KEY]}"] = comment
        survey = db.session.get(Survey, invitation.survey_id)
        surveys.submit_response(
            survey, answers, channel="invite", invitation=invitation, locale="zh_Hans"
        )

    def scans(self, first: date) -> list[datetime]:
        """The hourly scan, as it ran at 10:00 of each working day (once a day keeps the
        seeding quick; the deadlines a step finds missed are marked by the step)."""
        moments = []
        day = first
        while day <= self.today:
            if self.calendar.is_working_day(day):
                local = datetime.combine(day, time(10), tzinfo=clock.zone())
                moment = local.astimezone(UTC)
                if moment < self.now - timedelta(minutes=5):
                    moments.append(moment)
            day += timedelta(days=1)
        return moments


def _departments(users: dict[str, User], when: datetime) -> None:
    """The administrator adds 技术部 and routes each ticket type."""
    admin = users.get("admin") or users["manager"]
    with clock.at(when):
        depts.ensure_departments()
        codes = {d.code: d for d in db.session.scalars(select(ServiceDepartment))}
        tech = depts.save_department(
            admin,
            None,
            name="技术部",
            description="负责设备维修、安装调试和远程技术支持。",
            leader_id=users["service2"].id,
            member_ids=[users["service2"].id],
        )
        depts.set_route(admin, "repair", tech.id, users["service2"].id)
        depts.set_route(admin, "return", codes["sales"].id, users["sales3"].id)
        depts.set_route(admin, "dispute", codes["sales"].id, users["sales3"].id)
        depts.set_route(admin, "consult", codes["service"].id, users["service1"].id)
        depts.set_route(admin, "complaint", codes["service"].id, users["service1"].id)
        db.session.flush()


def _quiet_notifications(now: datetime, mail_before: int) -> None:
    """Old news is read: only this week's notices about tickets still open stay unread; the
    demo's tickets send no mail."""
    db.session.flush()
    open_ids = db.session.scalars(select(Ticket.id).where(Ticket.status.in_(OPEN_STATUSES))).all()
    keep = [f"/service/tickets/{i}" for i in open_ids] or [""]
    db.session.execute(
        update(Notification)
        .where(
            Notification.read_at.is_(None),
            Notification.url.like("/service/%"),
            or_(Notification.url.not_in(keep), Notification.created_at < now - timedelta(days=7)),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    pending = db.session.info.get(PENDING_KEY)
    if pending:
        del pending[mail_before:]


def seed(ctx: dict) -> None:
    users: dict[str, User] = ctx["users"]
    if not current_app.config.get("DEMO_SERVICE", not current_app.testing):
        return
    if any(name not in users for name in ("manager", "service1", "service2", "sales3")):
        return
    if db.session.scalar(select(func.count(Ticket.id))):
        return
    if not db.session.scalar(select(func.count(Customer.id))):
        return
    mail_before = len(db.session.info.get(PENDING_KEY) or [])
    rng = random.Random(514)
    seeder = _Seeder(ctx, rng)
    plans = seeder.desk()
    plans += seeder.generic(COUNT - len(plans))
    first = min(p.received for p in plans)
    _departments(users, first - timedelta(days=3))
    timeline = [
        (moment, i, j, plan, action, details)
        for i, plan in enumerate(plans)
        for j, (moment, action, details) in enumerate(plan.steps)
    ]
    timeline += [
        (moment, -1, 0, None, "scan", {}) for moment in seeder.scans(clock.local_date(first))
    ]
    timeline.sort(key=lambda e: (e[0], e[1], e[2]))
    for moment, _i, _j, plan, action, details in timeline:
        with clock.at(moment):
            if plan is None:
                svc.scan(moment)
            else:
                seeder.do(plan, action, details)
    db.session.flush()
    svc.scan(clock.now())  # this hour's scan: today's warnings and the missed deadline
    _quiet_notifications(clock.now(), mail_before)
    db.session.flush()
    ctx["tickets"] = len(plans)
