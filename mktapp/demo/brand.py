"""Demo brand chapter (P3): the brand strategy in two versions, and (only when DEMO_BRAND is
on, as in the full demo and the browser tests) twelve market activities over the past
year in every state, with budget lines, staff, tasks, participants, claims, leads,
opportunities, a contract and evaluations.

Each state has its function (`_draft`, `_pending` ... `_evaluated`), each building on the
one before. Plans are submitted, approved or returned through the activities service and
the approval engine, and evaluations written, submitted and approved through the
evaluation service (which freezes the figures and the PDF), so the demo's approval
histories, reserved budget and frozen PDFs are the real thing; then the times are moved
back to when things happened.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

from flask import current_app
from PIL import Image, ImageDraw
from sqlalchemy import insert, select, update
from werkzeug.datastructures import FileStorage

from mktapp.brand import activities as activity_svc
from mktapp.brand import evaluation as evaluation_svc
from mktapp.brand import execution
from mktapp.brand.activities import budget_cells
from mktapp.brand.evaluation import SALES_WINDOW, SIGNED
from mktapp.contracts import services as contract_svc
from mktapp.core import approvals as engine
from mktapp.core import fragments
from mktapp.core.attachments import save_upload
from mktapp.core.numbering import next_number
from mktapp.demo import approve_all
from mktapp.demo.claims import tiny_pdf
from mktapp.demo.contracts import _backdate, _quiet_history, _scan, _terms
from mktapp.expense import budget as budget_svc
from mktapp.expense import claims as claims_svc
from mktapp.expense.common import budget_remaining
from mktapp.extensions import db
from mktapp.models import (
    Activity,
    ActivityBudgetLine,
    ActivityParticipant,
    ActivityStaff,
    ActivityTask,
    ApprovalEvent,
    ApprovalRequest,
    BrandChannel,
    BrandStrategy,
    BudgetLine,
    Contract,
    ExpenseClaim,
    Notification,
    SurveyAnswer,
    SurveyResponse,
    User,
    utcnow,
)
from mktapp.models.sales import (
    Contact,
    Customer,
    Opportunity,
    Product,
)
from mktapp.research import surveys as research
from mktapp.sales import pipeline
from mktapp.sales.customers import name_key, phone_key

# --- the brand strategy ------------------------------------------------------------------

STRATEGY_V1 = {
    "positioning": "示例科技专注于中小企业智能办公与工业自动化解决方案，"
    "以“可靠、易用、服务到位”区别于低价竞争者，定位为华东地区中高端商用设备的首选合作伙伴。",
    "audiences": "1. 华东地区 50–500 人的中小企业行政与 IT 负责人\n"
    "2. 制造企业的设备与采购经理\n3. 政府、学校等机构的集中采购部门",
    "value_proposition": "一站式选型、安装、培训与 4 小时售后响应；按需租赁降低初期投入；"
    "全生命周期的设备管理让客户省心省钱。",
    "slogan": "智能办公，稳如磐石",
    "colours": "#0b5cad 品牌蓝,#f5a623 活力橙,#1f2933 深炭灰",
    "image_notes": "标志使用标准色，最小宽度 24 mm，四周留白不少于标志高度的一半；"
    "展会、宣传册和 PPT 统一使用 VI 手册中的模板；不得拉伸、变色或添加阴影。",
    "change_note": "首版品牌策略，经营销例会讨论通过。",
}

CHANNELS_V1 = [
    ("行业展会", "制造企业设备经理、经销商", "每场收集名片 150–300 张，线索转化率约 8%"),
    ("微信公众号", "现有客户、行政负责人", "粉丝 1.2 万，月均阅读 3.5 万，案例文章转发最好"),
    ("百度搜索推广", "主动搜索设备的采购人员", "月均线索 60 条，单条线索成本约 ¥180"),
    ("客户答谢会", "重点客户高层", "续约率提升明显，转介绍客户占新客户 15%"),
]

CHANNELS_V2_EXTRA = [
    ("抖音企业号", "年轻的行政和采购人员", "短视频演示产品，三个月涨粉 8,000，带来咨询 40 余条"),
]


def _strategy(author: User, number: int, values: dict, channels: list, when: datetime):
    strategy = BrandStrategy(version=number, owner_id=author.id, **values)
    strategy.channels = [
        BrandChannel(seq=i, name=name, audience=audience, effect=effect)
        for i, (name, audience, effect) in enumerate(channels)
    ]
    db.session.add(strategy)
    db.session.flush()
    strategy.created_at = strategy.updated_at = when
    return strategy


def _png(width: int, height: int, colours: list[str]) -> bytes:
    """A simple logo: stripes of the brand colours (Pillow comes with WeasyPrint)."""

    image = Image.new("RGB", (width, height), "#ffffff")
    draw = ImageDraw.Draw(image)
    stripe = height // (len(colours) + 1)
    draw.ellipse((8, 8, width - 8, height - 8), fill=colours[0])
    for i, colour in enumerate(colours[1:], start=1):
        top = stripe * i + stripe // 2
        draw.rectangle((width // 4, top, width * 3 // 4, top + stripe // 3), fill=colour)
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _upload(record, user, name: str, data: bytes, when: datetime):
    attachment = save_upload(FileStorage(stream=BytesIO(data), filename=name), record, user)
    attachment.uploaded_at = when
    return attachment


def seed_strategy(ctx: dict) -> list[BrandStrategy]:
    """Version 1 a year ago; version 2 changes the slogan and adds a channel. With
    DEMO_BRAND on, a logo (two versions of one file) and the VI manual are attached."""

    manager = ctx["users"]["manager"]
    now = ctx["now"]
    first = _strategy(manager, 1, STRATEGY_V1, CHANNELS_V1, now - timedelta(days=330))
    second_values = dict(STRATEGY_V1)
    second_values.update(
        slogan="智联办公，值得信赖",
        change_note="根据下半年客户调研结果调整口号，突出“智联”与服务；新增抖音企业号渠道，"
        "面向年轻的行政和采购人员。",
    )
    made = [first]
    if current_app.config.get("DEMO_BRAND", not current_app.testing):
        old_logo = _upload(
            first,
            manager,
            "示例科技标志.png",
            _png(240, 240, ["#0b5cad", "#ffffff", "#ffffff"]),
            now - timedelta(days=329),
        )
        _upload(first, manager, "VI手册.pdf", tiny_pdf("VI manual v1"), now - timedelta(days=328))
        first.logo_attachment_id = old_logo.id
        second_values["logo_attachment_id"] = old_logo.id
    second = _strategy(
        manager, 2, second_values, CHANNELS_V1 + CHANNELS_V2_EXTRA, now - timedelta(days=120)
    )
    made.append(second)
    if current_app.config.get("DEMO_BRAND", not current_app.testing):
        _upload(
            second,
            manager,
            "示例科技标志.png",
            _png(240, 240, ["#0b5cad", "#f5a623", "#ffffff"]),
            now - timedelta(days=119),
        )
    db.session.flush()
    ctx["brand_strategies"] = made
    return made


def seed(ctx: dict) -> None:
    seed_strategy(ctx)
    if current_app.config.get("DEMO_BRAND", not current_app.testing):
        seed_activities(ctx)


# --- market activities ---------------------------------------------------------------------


@dataclass
class Spec:
    """One demo activity: `when` is days from today to the start, `state` its final status."""

    kind: str
    theme: str  # "{year}" is replaced by the start's year
    place: str
    when: int
    days: int
    state: str
    form: str
    purpose: str
    content: str
    audience: str
    targets: tuple[int, int, int]  # participants, leads, sales (yuan)
    # category, months before the start (0: the start's month, -1: the month after), yuan;
    # chosen to fit the free expense budget of those months (see demo/budget.py)
    budget: list[tuple[str, int, int]]
    planner: str = "market1"
    note: str = ""  # why returned or cancelled
    # What happened: registered and checked-in guests, leads, deals won, feedback answers.
    registered: int = 0
    checked: int = 0
    leads: int = 0
    won: int = 0
    responses: int = 0
    mood: float = 0.3  # the guests' general satisfaction (about -1 .. 1)
    over_budget: str = ""  # the planner's reason when the plan is knowingly over budget


SPECS: list[Spec] = [
    Spec(
        "launch",
        "{year} 春季新品发布会",
        "上海国际会议中心 七楼明珠厅",
        -254,
        1,
        "evaluated",
        "hybrid",
        "发布 86 英寸智能会议平板和设备管理平台 2.0，邀请重点客户与经销商现场体验，获取采购意向。",
        "1. 总经理致辞\n2. 新品发布与演示\n3. 客户案例分享\n4. 体验区自由体验\n5. 晚宴与抽奖",
        "重点客户、经销商、行业媒体",
        (200, 30, 300_000),
        [
            ("brand", 1, 12_000),
            ("activity", 0, 38_000),
            ("brand", 0, 18_000),
            ("advertising", 0, 15_000),
        ],
        registered=226,
        checked=204,
        leads=36,
        won=3,
        responses=58,
        mood=0.5,
    ),
    Spec(
        "expo",
        "{year} 华东工业自动化展 展位 B-12",
        "国家会展中心（上海）8.1 馆 展位 B-12",
        -218,
        4,
        "evaluated",
        "offline",
        "展示智能办公终端和工厂设备管理方案，收集制造企业设备经理的名片与需求。",
        "展位 54 ㎡；每日两场产品讲解；扫码登记送定制礼品；重点客户洽谈区。",
        "制造企业设备经理、采购经理、系统集成商",
        (300, 50, 800_000),
        [
            ("brand", 1, 6_000),
            ("activity", 0, 28_000),
            ("brand", 0, 15_000),
            ("advertising", 0, 10_000),
        ],
        planner="market2",
        registered=262,
        checked=228,
        leads=31,
        won=2,
        responses=41,
        mood=-0.1,
    ),
    Spec(
        "charity",
        "{year}“科技助学”公益捐赠活动",
        "安徽省六安市金寨县 希望小学",
        -190,
        1,
        "evaluated",
        "offline",
        "向山区小学捐赠智能教学终端，履行企业社会责任，提升品牌美誉度。",
        "捐赠仪式、教师培训、媒体采访；邀请两家长期客户共同参与。",
        "受助学校师生、地方媒体、合作客户",
        (80, 12, 150_000),
        [("brand", 0, 20_000), ("activity", 0, 12_000)],
        registered=88,
        checked=81,
        leads=15,
        won=2,
        responses=26,
        mood=0.8,
    ),
    Spec(
        "promotion",
        "{year} 618 年中促销",
        "天猫旗舰店、京东自营店、公司官网",
        -178,
        18,
        "evaluated",
        "online",
        "借 618 大促推动会议平板和投屏器的线上销量，拉新中小企业客户。",
        "满 2 万减 2000；前 100 单赠送安装服务；直播间每日 20:00 产品讲解。",
        "中小企业行政采购、个人工作室",
        (0, 30, 350_000),
        [("advertising", 1, 30_000), ("advertising", 0, 32_000)],
        planner="market2",
        leads=32,
        won=3,
    ),
    Spec(
        "theme",
        "{year} 客户答谢会暨秋季产品体验日",
        "杭州西湖国宾馆 紫薇厅",
        -62,
        1,
        "ended",
        "offline",
        "答谢老客户，演示秋季新品，争取续约和增购。",
        "签到 → 产品体验 → 客户分享 → 答谢晚宴 → 现场满意度问卷",
        "年合作额 20 万元以上的客户",
        (120, 20, 300_000),
        [("brand", 1, 8_000), ("activity", 0, 26_000)],
        registered=134,
        checked=123,
        leads=22,
        won=2,
        responses=47,
        mood=0.6,
    ),
    Spec(
        "promotion",
        "{year} 双十一线上大促",
        "天猫旗舰店、京东自营店、抖音企业号",
        -27,
        11,
        "ended",
        "online",
        "双十一期间集中投放，完成全年线上销售目标。",
        "预售定金膨胀；满减叠加店铺券；抖音直播每晚两场。",
        "中小企业采购、抖音关注者",
        (0, 40, 300_000),
        [("advertising", 0, 20_000), ("advertising", -1, 38_000)],
        planner="market2",
        leads=30,
        won=1,
    ),
    Spec(
        "expo",
        "{year} 华南智能办公巡展（深圳站）",
        "深圳会展中心 5 号馆 展位 5D-18",
        -2,
        5,
        "running",
        "offline",
        "开拓华南市场，寻找当地经销商并收集终端客户线索。",
        "展位演示、经销商招募说明会（第二天下午）、每日抽奖。",
        "华南地区企业采购、经销商",
        (250, 50, 600_000),
        [("activity", 1, 20_000), ("activity", 0, 42_000)],
        registered=168,
        checked=121,
        leads=14,
        responses=33,
        mood=0.4,
        # Over the activity budget of its month whatever else was spent (the seeder makes
        # sure): the one plan the company leader approves over budget.
        over_budget="华南市场开拓是今年的重点工作，展位须提前一个月锁定；{month}月活动费不足，"
        "超出部分从{next_month}月活动费中调剂。",
    ),
    Spec(
        "theme",
        "{year} 年终客户答谢晚宴",
        "上海外滩华尔道夫酒店 宴会厅",
        21,
        1,
        "approved",
        "offline",
        "感谢全年合作，发布明年服务承诺，巩固重点客户关系。",
        "总经理致辞、年度优秀合作伙伴颁奖、文艺表演、抽奖。",
        "A 类客户及经销商负责人",
        (150, 10, 300_000),
        [("customer", 0, 15_000), ("activity", 0, 24_000)],
        registered=46,
    ),
    Spec(
        "launch",
        "{year} 年末新品线上直播发布会",
        "公司直播间（抖音、视频号同步）",
        31,
        1,
        "pending",
        "online",
        "线上发布明年春季主推的智能办公终端，预热春季销售。",
        "产品经理讲解、客户连线、限时预订优惠。",
        "线上关注者、现有客户",
        (3000, 80, 400_000),
        [("advertising", 0, 20_000), ("brand", 0, 8_000)],
        planner="market2",
    ),
    Spec(
        "promotion",
        "{year} 12·12 年终促销",
        "天猫旗舰店、京东自营店",
        13,
        3,
        "draft",
        "online",
        "年末清库存，冲刺全年销售。",
        "全场九折，老客户加赠一年维保。",
        "中小企业采购",
        (0, 60, 300_000),
        [("advertising", 0, 12_000)],
    ),
    Spec(
        "other",
        "{year} 企业开放日·智能工厂参观",
        "公司苏州生产基地",
        24,
        1,
        "rejected",
        "offline",
        "邀请客户参观生产线，展示质量管控能力。",
        "工厂参观、质检实验室讲解、座谈交流。",
        "重点客户技术负责人",
        (60, 15, 200_000),
        [("brand", 0, 12_000)],
        note="年底生产任务重，参观可能影响生产安全，请调整到明年一季度再申报。",
    ),
    Spec(
        "theme",
        "{year} 夏季客户露营主题活动",
        "浙江安吉 云上草原营地",
        -128,
        2,
        "cancelled",
        "offline",
        "以轻松的户外活动增进与年轻客户的关系。",
        "露营、烧烤、团队游戏、产品体验帐篷。",
        "年轻的行政和采购人员",
        (50, 10, 100_000),
        [("customer", 0, 6_000), ("brand", 0, 10_000)],
        note="台风预警，营地关闭，活动取消；已预付的场地费已协商退回。",
        registered=32,
    ),
]

TASKS: dict[str, list[tuple[str, int]]] = {
    # title, days relative to the start
    "launch": [
        ("确定场地并签订合同", -40),
        ("邀请函设计与发送", -25),
        ("新品演示环境搭建", -3),
        ("媒体邀请与通稿准备", -7),
        ("现场签到与接待", 0),
        ("会后客户回访", 5),
    ],
    "expo": [
        ("展位设计与搭建", -20),
        ("展品与物料运输", -5),
        ("展台讲解人员排班", -3),
        ("名片登记与线索录入", 1),
        ("展后线索分配给业务员", 6),
    ],
    "promotion": [
        ("促销方案与价格审批", -20),
        ("店铺页面与海报上线", -5),
        ("直播排期与脚本", -3),
        ("每日销售数据复盘", 1),
        ("活动后订单发货跟进", 3),
    ],
    "theme": [
        ("客户名单确认与邀请", -20),
        ("场地与餐饮确认", -10),
        ("流程与主持稿", -5),
        ("现场签到与接待", 0),
        ("满意度问卷回收", 2),
    ],
    "charity": [
        ("与学校对接捐赠需求", -30),
        ("设备采购与运输", -10),
        ("媒体邀请", -5),
        ("捐赠仪式执行", 0),
    ],
    "other": [
        ("参观路线与安全预案", -15),
        ("客户邀请", -10),
        ("接待与讲解", 0),
    ],
}

DUTIES = [
    ("market1", "总负责：方案、预算与现场总控"),
    ("market2", "宣传物料、线上推广与媒体对接"),
    ("sales1", "客户邀约与现场洽谈"),
    ("sales2", "客户接待与线索登记"),
    ("service1", "签到、礼品与满意度问卷"),
]

LEAD_COMPANIES = [
    ("上海", "上海", "上海锐捷精工设备有限公司", "智能制造"),
    ("江苏", "苏州", "苏州汇川智能装备有限公司", "智能制造"),
    ("浙江", "杭州", "杭州禾信数据科技有限公司", "软件与信息服务"),
    ("江苏", "南京", "南京云启教育科技有限公司", "教育"),
    ("浙江", "宁波", "宁波港城物流有限公司", "物流"),
    ("上海", "上海", "上海朗润医疗器械有限公司", "医疗器械"),
    ("江苏", "无锡", "无锡新纪元电子有限公司", "电子"),
    ("安徽", "合肥", "合肥蓝海新能源科技有限公司", "新能源"),
    ("浙江", "绍兴", "绍兴金科纺织机械有限公司", "智能制造"),
    ("江苏", "常州", "常州启明建材有限公司", "建材"),
    ("上海", "上海", "上海优品连锁商贸有限公司", "零售"),
    ("浙江", "温州", "温州瑞达阀门有限公司", "智能制造"),
    ("广东", "深圳", "深圳智联创新科技有限公司", "电子"),
    ("广东", "东莞", "东莞华盛精密五金有限公司", "智能制造"),
    ("江苏", "南通", "南通海晟船舶配件有限公司", "智能制造"),
    ("浙江", "嘉兴", "嘉兴禾丰食品有限公司", "食品"),
    ("上海", "上海", "上海启航教育培训有限公司", "教育"),
    ("广东", "广州", "广州天河数码科技有限公司", "电子"),
    ("福建", "厦门", "厦门鹭岛物流有限公司", "物流"),
    ("江苏", "扬州", "扬州润和医疗器械有限公司", "医疗器械"),
]

EVALUATIONS = {
    # theme key word -> reach, media, media notes, inquiries, followers, worked, to change
    "春季新品发布会": (
        52_000,
        9,
        "行业媒体 6 篇报道，直播观看 4.6 万人次。",
        85,
        1_300,
        "体验区停留时间长，客户对设备管理平台兴趣大；经销商当场下单 3 笔。",
        "签到排队超过 20 分钟，下次增加自助签到机；晚宴时间过长。",
    ),
    "华东工业自动化展": (
        18_000,
        4,
        "展会官方公众号报道 1 次，行业网站 3 篇。",
        160,
        600,
        "扫码登记送礼品收集名片效率高；讲解场次安排合理；签约的两家客户都来自重点洽谈区。",
        "没有完成目标：今年展会整体客流下降，我们的展位在 8.1 馆角落，签到与线索都低于计划，"
        "成交额远低于目标。展位偏小，洽谈区不够用；展后 3 天内才分配线索，应缩短到 1 天。"
        "明年改报主通道展位，并提前两周向目标客户发送邀约。",
    ),
    "科技助学": (
        120_000,
        12,
        "地方电视台新闻报道，县融媒体与三家门户网站转载。",
        12,
        2_100,
        "品牌美誉度提升明显，客户共同参与的反馈很好。",
        "提前准备更多活动照片和视频素材，方便二次传播。",
    ),
    "618": (
        260_000,
        2,
        "平台活动会场曝光，直播间累计观看 8.2 万。",
        320,
        4_800,
        "满减叠加安装服务的组合转化率最高；直播讲解带动投屏器销量。",
        "首日库存不足导致断货 6 小时，下次提前备货；客服响应需加人。",
    ),
    "客户答谢会": (
        3_000,
        1,
        "公司公众号推文 1 篇。",
        26,
        180,
        "老客户对新品体验反馈积极，两家客户当场表示增购意向。",
        "",
    ),
}


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai"))


def _moment(day: date, hour: int = 10) -> datetime:
    """A time on a local day, stored in UTC."""
    return datetime.combine(day, time(hour), _zone()).astimezone(UTC)


def _month_back(day: date, months: int) -> tuple[int, int]:
    """The (year, month) `months` before the day's month (negative: after it)."""
    index = day.year * 12 + day.month - 1 - months
    return index // 12, index % 12 + 1


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = (
    "磊 娜 伟 洋 静 帆 敏 涛 杰 艳 明 超 骏 琳 斌 蕾 强 芳 勇 婷 军 丽 鹏 霞 浩 倩 宇 雪 峰 颖 "
    "志强 海燕 建华 晓东 文静 春梅 国庆 丽华 俊杰 佳怡 子涵 欣怡 宏伟 秀英 立新 晓峰"
).split()
LEAD_CORES = (
    "华信 鼎盛 恒远 博睿 启航 金桥 瑞丰 天成 中科 宏图 卓越 长风 远景 嘉禾 凯达 同创 德润 "
    "众力 佳和 信诚 永泰 华拓 海纳 立达 精诚 汇智 远航 星河 和鸣 东方 万通 新锐 晨光 科隆"
).split()
LEAD_TRADES = [
    ("智能制造", "精密机械有限公司"),
    ("电子", "电子科技有限公司"),
    ("物流", "供应链管理有限公司"),
    ("教育", "教育科技有限公司"),
    ("医疗器械", "医疗器械有限公司"),
    ("软件与信息服务", "信息技术有限公司"),
    ("零售", "商贸有限公司"),
    ("新能源", "新能源科技有限公司"),
    ("建材", "新材料有限公司"),
    ("食品", "食品有限公司"),
]
EAST = [
    ("上海", "上海"),
    ("江苏", "苏州"),
    ("江苏", "南京"),
    ("江苏", "无锡"),
    ("江苏", "常州"),
    ("浙江", "杭州"),
    ("浙江", "宁波"),
    ("浙江", "嘉兴"),
    ("浙江", "绍兴"),
    ("安徽", "合肥"),
]
SOUTH = [("广东", "深圳"), ("广东", "东莞"), ("广东", "广州"), ("广东", "佛山"), ("福建", "厦门")]

# On-site feedback: what guests wrote, and when they asked to be called.
FEEDBACK_COMMENTS = [
    "新品演示很直观，希望会后能安排到公司做一次详细演示。",
    "讲解人员很专业，问题回答得很清楚。",
    "签到排队时间有点长，建议增加自助签到。",
    "场地交通方便，茶歇安排得不错。",
    "希望提供更详细的价格方案和租赁方案。",
    "体验区设备很多，可惜人太多，没排上试用。",
    "客户案例分享很实用，和我们的情况很像。",
    "资料袋里的产品手册很有用，希望有电子版。",
    "整体组织得很好，明年还会参加。",
    "希望能多一些关于售后服务流程的介绍。",
    "音响效果一般，后排听不太清楚。",
    "抽奖环节气氛很好。",
]
INTERESTS = {0: 40, 1: 35, 2: 20, 3: 25, 4: 12, 5: 4}  # the standard options, by index


def _pick(weights: dict, rng: random.Random):
    values, w = zip(*weights.items(), strict=True)
    return rng.choices(values, weights=w)[0]


class ActivitySeeder:
    """Makes the demo activities; one method per state, each building on the one before."""

    def __init__(self, ctx: dict):
        self.ctx = ctx
        self.users: dict[str, User] = ctx["users"]
        self.today = ctx["today"]
        self.now = ctx["now"]
        self.rng = random.Random(3303)
        self.lead_names = iter(LEAD_COMPANIES)
        self.taken = set(db.session.scalars(select(Customer.name_key)))
        self.invoice_seq = 0
        self.pay_seq = 0
        self.products = list(db.session.scalars(select(Product).order_by(Product.id).limit(8)))

    def user(self, name: str) -> User:
        return self.users.get(name) or self.users["manager"]

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    # --- the plan (draft) ---------------------------------------------------------------

    def _draft(self, spec: Spec) -> Activity:
        start = self.today + timedelta(days=spec.when)
        end = start + timedelta(days=spec.days - 1)
        activity = Activity(
            number=next_number("HD", start.year),
            kind=spec.kind,
            theme=spec.theme.format(year=start.year),
            purpose=spec.purpose,
            target_participants=spec.targets[0],
            target_leads=spec.targets[1],
            target_sales=Decimal(spec.targets[2]),
            start_on=start,
            end_on=end,
            place=spec.place,
            content=spec.content,
            form=spec.form,
            audience=spec.audience,
            status="draft",
            owner_id=self.user(spec.planner).id,
        )
        for category, months_before, amount in spec.budget:
            year, month = _month_back(start, months_before)
            activity.budget_lines.append(
                ActivityBudgetLine(
                    category=category,
                    year=year,
                    month=month,
                    amount=Decimal(amount),
                    note="前期筹备"
                    if months_before > 0
                    else "活动当月"
                    if months_before == 0
                    else "活动后续",
                )
            )
        db.session.add(activity)
        db.session.flush()
        created = _moment(start - timedelta(days=45 if spec.when < 0 else 12), 9)
        activity.created_at = activity.updated_at = min(created, self.now - timedelta(days=3))
        return activity

    # --- approval --------------------------------------------------------------------

    def _pending(self, spec: Spec) -> Activity:

        activity = self._draft(spec)
        owner = db.session.get(User, activity.owner_id)
        reason = ""
        if spec.over_budget:
            self._exceed(activity)
            month = activity.start_on.month
            reason = spec.over_budget.format(month=month, next_month=month % 12 + 1)
        else:
            short = activity_svc.shortfalls(activity.budget_lines)
            if short and not self._top_up(activity, short):
                # The month's year is closed or has no approved budget: never fail for that.
                reason = "活动时间已与合作方锁定，超出部分从下季度预算中调剂。"
        activity_svc.submit(owner, activity, over_budget_reason=reason)
        submitted = activity.created_at + timedelta(days=2)
        activity.submitted_at = submitted
        _backdate_approvals("Activity", activity.id, submitted)
        return activity

    def _top_up(self, activity: Activity, short) -> bool:
        """Before a plan goes in, the marketing manager adds what its months lack to the
        expense budget (an adjustment with its reason), as a real one would: on whatever
        day the demo is built, only the plan meant to be over budget is."""

        manager = self.users["manager"]
        budgets = {s.year: budget_svc.budget_for_year(s.year) for s in short}
        if not all(b is not None and budget_svc.may_adjust(manager, b) for b in budgets.values()):
            return False
        cells = {year: budget_cells(year) for year in budgets}
        at = activity.created_at - timedelta(days=1)
        for s in short:
            budget = budgets[s.year]
            current = db.session.scalar(
                select(BudgetLine.amount).where(
                    BudgetLine.budget_id == budget.id,
                    BudgetLine.category == s.category,
                    BudgetLine.month == s.month,
                )
            ) or Decimal(0)
            free = cells[s.year][(s.category, s.month)].free  # may be below zero
            extra = ((s.need - free) / 1000).to_integral_value(ROUND_CEILING)
            adjustment = budget_svc.adjust(
                manager,
                budget,
                s.category,
                s.month,
                current + extra * 1000,
                f"为「{activity.theme}」追加{s.month}月预算，经营销例会讨论同意。",
            )
            adjustment.at = at
        return True

    def _exceed(self, activity: Activity) -> None:
        """Make sure the plan meant to be over budget is: its largest line of its own
        month goes past that month's free budget."""

        start = activity.start_on
        lines = [
            line
            for line in activity.budget_lines
            if (line.year, line.month) == (start.year, start.month)
        ]
        line = max(lines, key=lambda one: one.amount)
        free = budget_cells(line.year).get((line.category, line.month))
        free = max(free.free, Decimal(0)) if free is not None else Decimal(0)
        wanted = ((free + Decimal(12_000)) / 1000).to_integral_value(ROUND_CEILING) * 1000
        line.amount = max(Decimal(line.amount), wanted)
        db.session.flush()

    def _rejected(self, spec: Spec) -> Activity:
        activity = self._pending(spec)
        step = engine.pending_step(engine.current_request(activity))
        engine.reject(step.id, self.users["manager"], spec.note)
        decided = activity.submitted_at + timedelta(days=1, hours=2)
        _backdate_approvals("Activity", activity.id, activity.submitted_at, decided)
        return activity

    def _approved(self, spec: Spec) -> Activity:
        activity = self._pending(spec)
        month = activity.start_on.month % 12 + 1
        over = f"同意超预算执行：华南市场是明年增长重点，{month}月活动费相应压减。"
        approve_all(activity, self.users, over if activity.over_budget_reason else "")
        activity.approved_at = activity.submitted_at + timedelta(days=1, hours=3)
        _backdate_approvals("Activity", activity.id, activity.submitted_at, activity.approved_at)
        self._staff(activity)
        self._tasks(activity)
        if activity.start_on > self.today and activity.form != "online":
            self._participants(activity, spec.registered, 0)
        return activity

    def _cancelled(self, spec: Spec) -> Activity:
        activity = self._approved(spec)
        activity_svc.cancel(activity.owner, activity, spec.note)
        return activity

    # --- execution ---------------------------------------------------------------------

    def _running(self, spec: Spec) -> Activity:
        activity = self._approved(spec)
        activity_svc.start(activity.owner, activity)
        self._participants(activity, spec.registered, spec.checked)
        self._feedback(activity, spec, close=False)
        self._leads(activity, spec)
        return activity

    def _ended(self, spec: Spec) -> Activity:
        activity = self._approved(spec)
        activity_svc.start(activity.owner, activity)
        activity_svc.end(activity.owner, activity)
        if activity.form != "online":  # an online promotion has buyers, not guests
            self._participants(activity, spec.registered, spec.checked)
            self._feedback(activity, spec, close=spec.state == "evaluated")
        self._claims(activity)
        self._leads(activity, spec)
        return activity

    def _evaluated(self, spec: Spec) -> Activity:
        # Guests, answers, leads and signed contracts are in before the evaluation is
        # submitted: submission freezes the figures.
        activity = self._ended(spec)
        self._evaluation(activity, "approved")  # the approval sets "evaluated"
        return activity

    # --- parts -------------------------------------------------------------------------

    def _staff(self, activity: Activity) -> None:
        count = 5 if activity.form != "online" else 3
        for username, duty in DUTIES[:count]:
            if username in self.users:
                activity.staff.append(ActivityStaff(user_id=self.users[username].id, duty=duty))

    def _tasks(self, activity: Activity) -> None:
        people = [self.user(n) for n in ("market1", "market2", "sales1", "service1")]
        for seq, (title, offset) in enumerate(TASKS[activity.kind]):
            due = activity.start_on + timedelta(days=offset)
            task = ActivityTask(
                activity_id=activity.id,
                seq=seq,
                title=title,
                owner_id=people[seq % len(people)].id,
                due_on=due,
                status="todo",
            )
            db.session.add(task)
            db.session.flush()
            ended = activity.end_on < self.today
            # Past tasks are done, except in a running or upcoming activity, where the
            # last one due before today is left overdue (the reminders show it).
            if due < self.today and (ended or seq % 3 != 2):
                execution.set_status(
                    activity.owner, task, "done", now=_moment(min(due, self.today), 16)
                )
            elif due <= self.today + timedelta(days=2):
                execution.set_status(activity.owner, task, "doing")

    def _day_of(self, activity: Activity) -> date:
        """A day of the activity that has come (for check-ins and answers)."""
        last = min(activity.end_on, self.today)
        return activity.start_on + timedelta(
            days=self.rng.randint(0, max(0, (last - activity.start_on).days))
        )

    def _participants(self, activity: Activity, registered: int, checked: int) -> None:
        """Invited customers (a third, at most 40), registered guests and walk-ins (all
        checked in); `checked` of them in all have checked in on one of the days so far."""
        customers = self._guests(activity)
        started = activity.start_on <= self.today
        walk_ins = max(1, registered // 10) if started else 0
        others = list(range(registered - walk_ins))
        arrived = set(self.rng.sample(others, k=max(0, min(len(others), checked - walk_ins))))
        companies = [c[2] for c in LEAD_COMPANIES]
        rows = []
        for i in range(registered):
            kind = "invited" if i < min(len(customers), registered // 3) else "registered"
            if i >= registered - walk_ins:
                kind = "walk_in"
            customer = customers[i] if kind == "invited" else None
            here = started and (kind == "walk_in" or i in arrived)
            day = self._day_of(activity) if here else activity.start_on
            rows.append(
                ActivityParticipant(
                    activity_id=activity.id,
                    kind=kind,
                    customer_id=customer.id if customer else None,
                    name=self.person(),
                    company=customer.name if customer else self.rng.choice(companies),
                    phone=f"13{self.rng.randint(0, 9)}-{self.rng.randint(0, 9999):04d}-"
                    f"{self.rng.randint(0, 9999):04d}",
                    checked_in_at=(
                        _moment(day, 9) + timedelta(minutes=self.rng.randint(0, 300))
                        if here
                        else None
                    ),
                    created_at=(
                        _moment(day, 9)
                        if kind == "walk_in"
                        else _moment(activity.start_on - timedelta(self.rng.randint(1, 20)), 11)
                    ),
                )
            )
        db.session.add_all(rows)

    def _guests(self, activity: Activity) -> list[Customer]:
        """The customers to invite (at most 40): a few who bought again within three
        months of the activity, a few who bought in the three months before
        (the evaluation compares the two), then the others."""

        customers = list(
            db.session.scalars(
                select(Customer)
                .where(Customer.archived_at.is_(None), Customer.merged_into_id.is_(None))
                .order_by(Customer.id)
                .limit(200)
            )
        )
        signed = db.session.execute(
            select(Contract.customer_id, Contract.signed_on).where(
                Contract.status.in_(SIGNED), Contract.signed_on.is_not(None)
            )
        ).all()
        window = timedelta(days=SALES_WINDOW)
        after = {c for c, on in signed if activity.end_on < on <= activity.end_on + window}
        before = {c for c, on in signed if activity.start_on - window <= on < activity.start_on}
        first = [c for c in customers if c.id in after and c.id not in before][:5]
        # (a running activity's window after has not come yet)
        some = [c for c in customers if c.id in before][:3] if activity.end_on < self.today else []
        rest = [c for c in customers if c.id not in after and c.id not in before]
        return (first + some + rest)[:40]

    def _feedback(self, activity: Activity, spec: Spec, close: bool) -> None:
        """The standard on-site questionnaire (execution service), answered over the
        activity's days so far (bulk-inserted like the research demo); closed afterwards
        when asked."""

        owner = db.session.get(User, activity.owner_id)
        survey = execution.create_standard_survey(owner, activity)
        opened = _moment(activity.start_on - timedelta(days=2), 15)
        survey.created_at = survey.updated_at = opened - timedelta(hours=1)
        survey.published_at = opened
        questions = {q.kind: q for q in survey.questions}
        rng = self.rng
        responses, plans = [], []
        for _n in range(spec.responses):
            day = self._day_of(activity)
            at = _moment(day, 10) + timedelta(minutes=rng.randint(0, 420))
            at = min(at, self.now - timedelta(minutes=rng.randint(5, 600)))
            responses.append(
                {
                    "survey_id": survey.id,
                    "submitted_at": at,
                    "channel": "link",
                    "customer_id": None,
                    "respondent": "",
                    "locale": "zh_Hans",
                }
            )
            mood = rng.gauss(spec.mood, 0.7)
            rating = max(
                1, min(5, round(_pick({5: 45, 4: 38, 3: 12, 2: 4, 1: 1}, rng) + mood * 0.5))
            )
            nps = max(0, min(10, round(rng.gauss(8.4 + mood * 1.2, 1.5))))
            answers = [(questions["rating"].id, float(rating), None)]
            answers.append((questions["nps"].id, float(nps), None))
            for index in sorted(rng.sample(range(6), k=rng.randint(1, 3))):
                if rng.random() * 50 < INTERESTS[index] + 5:
                    answers.append((questions["multi"].id, float(index), None))
            call = rng.random() < 0.35 + max(0.0, mood) * 0.15
            answers.append((questions["single"].id, 0.0 if call else 1.0, None))
            if call:
                phone = f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"
                answers.append((questions["short_text"].id, None, f"{self.person()} {phone}"))
            if rng.random() < 0.3:
                answers.append((questions["long_text"].id, None, rng.choice(FEEDBACK_COMMENTS)))
            plans.append(answers)
        if responses:
            ids = list(
                db.session.scalars(
                    insert(SurveyResponse).returning(
                        SurveyResponse.id, sort_by_parameter_order=True
                    ),
                    responses,
                )
            )
            db.session.execute(
                insert(SurveyAnswer),
                [
                    {"response_id": rid, "question_id": qid, "num": num, "text": text}
                    for rid, answers in zip(ids, plans, strict=True)
                    for qid, num, text in answers
                ],
            )
        survey.response_count = len(responses)
        fragments.bump(db.session.connection(), ["surveys"])
        if close:
            research.close(owner, survey)
            survey.closed_at = _moment(activity.end_on, 21)

    def _claims(self, activity: Activity) -> None:
        """What the activity cost: paid claims linked to it (about 85% of its budget),
        each incurred in its budget line's month."""
        owner = self.user("market1" if activity.owner_id == self.user("market1").id else "market2")
        finance = self.user("finance1")
        for line in activity.budget_lines:
            amount = (line.amount * Decimal(self.rng.choice(["0.78", "0.85", "0.92"]))).quantize(
                Decimal("1")
            )
            first, last = date(line.year, line.month, 1), _month_end(line.year, line.month)
            if line.note == "前期筹备":
                wanted = activity.start_on - timedelta(20)
            else:
                wanted = activity.end_on
            incurred = min(self.today - timedelta(days=1), max(first, min(last, wanted)))
            self.invoice_seq += 1
            self.pay_seq += 1
            # Submitted two days after the expense, approved two days later: never later
            # than a little before now (an expense of yesterday is on its way today).
            submitted = min(
                _moment(incurred + timedelta(days=2), 10), self.now - timedelta(hours=4)
            )
            approved = min(submitted + timedelta(days=2), self.now - timedelta(hours=2))
            approved_day = approved.astimezone(_zone()).date()
            claim = ExpenseClaim(
                owner_id=owner.id,
                number=next_number("BX", incurred.year),
                category=line.category,
                reason=f"{activity.theme}：{CLAIM_REASONS[line.category]}",
                amount=amount,
                incurred_on=incurred,
                payment_method="bank",
                payee_account=f"招商银行 6225 **** **** {1000 + self.invoice_seq} "
                f"{owner.display_name}",
                invoice_number=f"{incurred:%y}{44000000 + self.invoice_seq * 7919:08d}",
                link_type="activity",
                link_id=activity.id,
                status="draft",
            )
            db.session.add(claim)
            db.session.flush()
            _, _, remaining = budget_remaining(line.category, incurred.year, incurred.month)
            if amount > remaining:
                claim.over_budget_reason = "活动费用已在活动预算中预留，按活动结算。"
            engine.submit(claim, owner)
            approve_all(claim, self.users)
            # Approved and paid at their planned moments (the engine's records follow).
            claim.approved_at = approved
            claims_svc.record_payment(
                finance,
                claim,
                max(approved_day, min(self.today, incurred + timedelta(days=6))),
                f"ZF{incurred:%Y}H{self.pay_seq:04d}",
                self.today,
            )
            _backdate_approvals("ExpenseClaim", claim.id, submitted, approved)
            claim.submitted_at = submitted
            claim.approved_at = approved
            claim.created_at = claim.updated_at = submitted - timedelta(hours=2)

    def _company(self, south: bool) -> tuple[str, str, str, str]:
        """A new lead's (province, city, name, industry): the list first, then made up."""
        while True:
            spot = None if south else next(self.lead_names, None)
            if spot is None:
                province, city = self.rng.choice(SOUTH if south else EAST)
                industry, suffix = self.rng.choice(LEAD_TRADES)
                spot = (province, city, f"{city}{self.rng.choice(LEAD_CORES)}{suffix}", industry)
            key = name_key(spot[2])
            if key not in self.taken:
                self.taken.add(key)
                return spot

    def _leads(self, activity: Activity, spec: Spec) -> None:
        """New customers who came from the activity: about half have an opportunity, the
        first `spec.won` a won deal with a signed contract."""
        reps = [self.user(n) for n in ("sales1", "sales2", "sales3")]
        past = activity.end_on < self.today
        south = "深圳" in activity.theme
        customers = []
        for i in range(spec.leads):
            province, city, name, industry = self._company(south)
            rep = reps[(activity.id + i) % len(reps)]
            phone = f"139-{self.rng.randint(0, 9999):04d}-{self.rng.randint(0, 9999):04d}"
            with_deal = i < spec.won or (i % 2 == 0)
            created = _moment(min(activity.end_on, self.today), 14) + timedelta(minutes=i)
            customer = Customer(
                name=name,
                name_key=name_key(name),
                kind="company",
                industry=industry,
                province=province,
                city=city,
                grade="A" if i < spec.won else "B" if with_deal else "C",
                status="won" if i < spec.won else "intent" if with_deal else "potential",
                source="activity",
                source_detail=activity.theme,
                source_activity_id=activity.id,
                owner_id=rep.id,
                created_by_id=self.user("market1").id,
                assigned_at=created + timedelta(hours=1),
                created_at=created,
                updated_at=created,
            )
            customer.contacts.append(
                Contact(
                    name=self.person(),
                    title=self.rng.choice(["采购经理", "行政主管", "设备部经理", "IT 负责人"]),
                    phone=phone,
                    phone_key=phone_key(phone),
                    is_primary=True,
                )
            )
            db.session.add(customer)
            customers.append((customer, rep, with_deal, i < spec.won))
        db.session.flush()
        for customer, rep, with_deal, won in customers:
            if not with_deal:
                continue
            if won:
                stage = "won"
            elif past:
                stage = _pick(
                    {"contact": 2, "needs": 3, "proposal": 3, "negotiation": 2, "lost": 1}, self.rng
                )
            else:
                stage = _pick({"prospect": 2, "contact": 1}, self.rng)
            opportunity = self._opportunity(activity, customer, rep, stage)
            if won:
                self._contract(opportunity)

    def _opportunity(self, activity: Activity, customer: Customer, rep: User, stage: str):
        start = min(self.now, _moment(activity.end_on + timedelta(days=self.rng.randint(1, 6)), 10))
        amount = Decimal(self.rng.choice([48_000, 66_000, 86_400, 128_000, 172_800]))
        closed = stage in ("won", "lost")
        closed_at = (
            min(self.now - timedelta(hours=2), start + timedelta(days=self.rng.randint(25, 45)))
            if closed
            else None
        )
        title = f"{customer.name[2:6]} {self.rng.choice(OPPORTUNITY_TOPICS)}"
        expected = (
            closed_at.date() if closed_at else self.today + timedelta(self.rng.randint(15, 75))
        )
        next_step = "" if closed else self.rng.choice(NEXT_STEPS)
        path = ["prospect", "contact", "needs", "proposal", "negotiation", "won"]
        if stage == "lost":
            walked = path[: self.rng.randint(2, 4)] + ["lost"]
        else:
            walked = path[: path.index(stage) + 1]
        end_at = closed_at or min(self.now, start + timedelta(days=5 * len(walked)))
        step = (end_at - start) / max(1, len(walked) - 1)
        data = pipeline.OpportunityInput(
            customer_id=customer.id,
            title=title,
            amount=amount,
            expected_close=expected,
            next_step="" if closed else next_step,
        )
        opportunity = pipeline.create_opportunity(rep, data, now=start)
        for i, to in enumerate(walked[1:], start=1):
            pipeline.move_stage(
                rep, opportunity, to, lost_reason="预算推迟到明年", now=start + step * i
            )
        opportunity.created_at = start
        opportunity.updated_at = closed_at or start
        return opportunity

    def _contract(self, opportunity: Opportunity) -> None:
        """A signed contract for a won deal, through the contract services."""
        if not self.products:
            return

        rep = db.session.get(User, opportunity.owner_id)
        closed = opportunity.closed_at.astimezone(
            ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai"))
        ).date()
        drafted = min(self.today, closed - timedelta(days=5))
        # The larger of a few offers: a deal worth an activity's effort.
        terms = max(
            (_terms(self.rng, self.products, drafted) for _i in range(3)),
            key=lambda t: contract_svc.totals_of(t).total,
        )
        contract = contract_svc.create_contract(
            rep, terms, drafted, customer_id=opportunity.customer_id, opportunity_id=opportunity.id
        )
        contract_svc.submit_contract(rep, contract)
        approve_all(contract, self.users)
        signed = min(self.today, drafted + timedelta(days=4))
        contract_svc.sign_contract(rep, contract, signed, _scan(contract.number), self.today)
        _backdate(contract, drafted)
        opportunity.amount = contract.total

    def _evaluation(self, activity: Activity, status: str) -> None:
        """Written (draft) or written, submitted and approved through the service."""

        key = next((k for k in EVALUATIONS if k in activity.theme), "客户答谢会")
        reach, media, notes, inquiries, followers, worked, change = EVALUATIONS[key]
        owner = db.session.get(User, activity.owner_id)
        evaluation = evaluation_svc.save(
            owner,
            activity,
            evaluation_svc.EvaluationInput(
                reach=reach,
                media_coverage=media,
                media_notes=notes,
                inquiries=inquiries,
                new_followers=followers,
                what_worked=worked,
                what_to_change=change,
            ),
        )
        if status == "approved":
            evaluation_svc.submit(owner, activity)
            approve_all(evaluation, self.users)  # freezes the figures and the PDF
            submitted = _moment(activity.end_on + timedelta(days=10), 11)
            evaluation.submitted_at = submitted
            evaluation.approved_at = _moment(activity.end_on + timedelta(days=12), 15)
            _backdate_approvals(
                "ActivityEvaluation", evaluation.id, submitted, evaluation.approved_at
            )


OPPORTUNITY_TOPICS = ["会议室升级项目", "智能办公终端采购", "设备管理平台部署", "车间看板改造"]
NEXT_STEPS = ["安排产品演示并提交方案", "报价确认", "技术交流", "等待客户内部审批"]

CLAIM_REASONS = {
    "activity": "场地租赁、搭建与现场物料",
    "brand": "宣传物料设计与印刷",
    "advertising": "线上推广与直播投放",
    "customer": "客户礼品与餐饮",
    "research": "问卷与访谈礼品",
    "commission": "活动成交提成",
    "other": "其他费用",
}


def _backdate_approvals(
    doc_type: str, doc_id: int, submitted: datetime, decided: datetime | None = None
) -> None:
    """Move a document's approval requests, steps and events back to when they happened:
    the submission at `submitted`, the decisions spread up to `decided`."""

    decided = decided or submitted + timedelta(hours=5)
    db.session.flush()
    requests = db.session.scalars(
        select(ApprovalRequest).where(
            ApprovalRequest.doc_type == doc_type, ApprovalRequest.doc_id == doc_id
        )
    ).all()
    for request in requests:
        request.submitted_at = submitted
        steps = [s for s in request.steps if s.decided_at is not None]
        steps.sort(key=lambda s: (s.decided_at, s.seq))
        for n, step in enumerate(steps, start=1):
            step.decided_at = submitted + (decided - submitted) * n / len(steps)
        if request.decided_at is not None:
            request.decided_at = decided
    events = db.session.scalars(
        select(ApprovalEvent)
        .where(ApprovalEvent.doc_type == doc_type, ApprovalEvent.doc_id == doc_id)
        .order_by(ApprovalEvent.id)
    ).all()
    later = [e for e in events if e.action != "submit"]
    for event in events:
        event.at = submitted
    for n, event in enumerate(later, start=1):
        event.at = submitted + (decided - submitted) * n / len(later)


def _quiet_notifications() -> None:
    """Old news is read: only notices about plans still under review stay unread."""

    db.session.flush()
    pending = db.session.scalars(select(Activity.id).where(Activity.status == "pending")).all()
    keep = [f"/brand/activities/{i}" for i in pending] or [""]
    db.session.execute(
        update(Notification)
        .where(
            Notification.read_at.is_(None),
            Notification.url.like("/brand/%"),
            Notification.url.not_in(keep),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def seed_activities(ctx: dict) -> list[Activity]:
    """Twelve activities over the past year in every state, of all six kinds."""
    seeder = ActivitySeeder(ctx)
    made = []
    for spec in SPECS:
        activity = getattr(seeder, f"_{spec.state}")(spec)
        db.session.flush()
        made.append(activity)
    # One ended activity's evaluation is being written (a draft).
    first_ended = next(a for a in made if a.status == "ended" and a.form != "online")
    seeder._evaluation(first_ended, "draft")
    _quiet_contract_notices()
    _quiet_notifications()
    db.session.flush()
    ctx["activities"] = made
    return made


def _quiet_contract_notices() -> None:
    """The contracts of the won deals are old news too."""

    _quiet_history()
