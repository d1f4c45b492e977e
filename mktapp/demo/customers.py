"""Demo customers and leads (P4.1): a handful always (the tests use them), and about 300
more with contacts and a year of follow-ups when DEMO_SALES is on (the default outside
tests; the browser tests' live server turns it on). Bulk inserts: a second or so.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import insert

from mktapp.extensions import db
from mktapp.models import AuditLog
from mktapp.models.sales import COMPANY_SIZES, Contact, Customer, Interaction
from mktapp.sales.customers import name_key, phone_key

# (province, cities)
REGIONS = [
    ("上海", ["上海"]),
    ("北京", ["北京"]),
    ("江苏", ["南京", "苏州", "无锡", "常州"]),
    ("浙江", ["杭州", "宁波", "温州", "绍兴"]),
    ("广东", ["广州", "深圳", "东莞", "佛山"]),
    ("山东", ["济南", "青岛", "烟台"]),
    ("四川", ["成都", "绵阳"]),
    ("湖北", ["武汉", "宜昌"]),
    ("福建", ["福州", "厦门", "泉州"]),
    ("安徽", ["合肥", "芜湖"]),
    ("河南", ["郑州", "洛阳"]),
    ("天津", ["天津"]),
]
PREFIXES = "华瑞 恒通 宏达 金桥 东方 新锐 博远 天成 盛世 中科 远航 合众 鼎信 汇丰 永安 安泰 九州 联创 明德 嘉禾 旭日 卓越 银河 海川 长风 正泰 星辰 和信 锦程 万达".split()
TRADES = [
    ("智能制造", "精密机械"),
    ("电子", "电子科技"),
    ("医疗器械", "医疗器械"),
    ("软件与信息服务", "信息技术"),
    ("新能源", "新能源科技"),
    ("物流", "物流"),
    ("食品", "食品"),
    ("建材", "建材"),
    ("教育", "教育科技"),
    ("零售", "商贸"),
]
FORMS = ["有限公司", "股份有限公司", "有限责任公司", "集团有限公司"]
SURNAMES = "王 李 张 刘 陈 杨 赵 黄 周 吴 徐 孙 马 朱 胡 郭 何 林 高 罗".split()
GIVEN = "伟 芳 娜 敏 静 强 磊 军 洋 勇 艳 杰 涛 明 超 秀英 建华 海燕 志强 晓东".split()
TITLES = ["采购经理", "总经理", "技术总监", "行政主管", "设备部经理", "副总经理", "采购专员"]
FAIRS = [
    "2026 中国国际工业博览会",
    "2026 深圳高交会",
    "2025 广交会（秋季）",
    "2026 华东进出口商品交易会",
]
NOTES = {
    "call": [
        "电话沟通采购计划，对方预计下季度启动选型。",
        "确认收到报价单，正在内部比价。",
        "初次电话联系，介绍公司产品线，对方有兴趣。",
    ],
    "visit": ["上门拜访，参观生产线，了解现有设备使用情况。", "拜访采购部，约定下周提交方案。"],
    "email": ["发送产品资料和案例介绍。", "邮件发送正式报价及付款方式说明。"],
    "wechat": ["微信沟通样品寄送地址。", "微信确认演示时间。"],
    "demo": ["现场演示设备，客户技术团队提问较多，反馈积极。"],
    "meeting": ["与客户管理层开会讨论合作框架。", "参加客户招标答疑会。"],
}
NEXT_ACTIONS = [
    "发送报价单",
    "约见技术负责人",
    "寄送样品",
    "跟进采购审批进度",
    "安排现场演示",
    "电话回访",
]

# The handful always seeded: (name, province, city, grade, status, source, detail, owner)
FEW = [
    ("上海恒通精密机械有限公司", "上海", "上海", "A", "intent", "fair", FAIRS[0], "sales1"),
    ("苏州博远电子科技股份有限公司", "江苏", "苏州", "B", "potential", "web", "百度搜索", "sales1"),
    (
        "杭州鼎信信息技术有限公司",
        "浙江",
        "杭州",
        "A",
        "won",
        "referral",
        "金桥物流 王总推荐",
        "sales1",
    ),
    (
        "深圳星辰新能源科技有限公司",
        "广东",
        "深圳",
        "B",
        "intent",
        "activity",
        "春季新品发布会",
        "sales2",
    ),
    ("青岛海川食品有限公司", "山东", "青岛", "C", "potential", "ads", "行业网站广告", "sales2"),
    ("成都天成医疗器械有限公司", "四川", "成都", "B", "potential", "fair", FAIRS[1], None),
    (
        "武汉长风物流有限公司",
        "湖北",
        "武汉",
        "C",
        "potential",
        "research",
        "华中物流调研名单",
        None,
    ),
    ("厦门嘉禾建材有限公司", "福建", "厦门", "C", "lost", "web", "", "sales3"),
]


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randint(0, 9)}-{rng.randint(0, 9999):04d}-{rng.randint(0, 9999):04d}"


def seed(ctx: dict) -> None:
    users = ctx["users"]
    rng = random.Random(4242)
    now = ctx["now"]
    creator = users.get("market1")
    few = []
    for name, province, city, grade, status, source, detail, owner in FEW:
        customer = Customer(
            name=name,
            name_key=name_key(name),
            kind="company",
            industry=next((t for t, word in TRADES if word in name), ""),
            province=province,
            city=city,
            grade=grade,
            status=status,
            source=source,
            source_detail=detail,
            owner_id=users[owner].id if owner else None,
            created_by_id=creator.id if creator else None,
            assigned_at=now if owner else None,
        )
        person = _person(rng)
        phone = _phone(rng)
        customer.contacts.append(
            Contact(
                name=person,
                title=rng.choice(TITLES),
                phone=phone,
                phone_key=phone_key(phone),
                email=f"contact{len(few) + 1}@example.cn",
                wechat=f"wx_{len(few) + 1:03d}",
                is_primary=True,
            )
        )
        db.session.add(customer)
        few.append((customer, owner))
    db.session.flush()
    for i, (customer, owner) in enumerate(few):
        if owner is None:
            continue
        for k in range(3):
            kind = ("call", "visit", "email")[k]
            db.session.add(
                Interaction(
                    customer_id=customer.id,
                    owner_id=users[owner].id,
                    contact_id=customer.contacts[0].id,
                    kind=kind,
                    happened_at=now - timedelta(days=30 - k * 10 + i),
                    notes=NOTES[kind][k % len(NOTES[kind])],
                    next_date=(now + timedelta(days=i % 4)).date() if k == 2 else None,
                    next_action=NEXT_ACTIONS[i % len(NEXT_ACTIONS)] if k == 2 else "",
                )
            )
    db.session.flush()
    if current_app.config.get("DEMO_SALES", not current_app.testing):
        _bulk(ctx, rng, now)


def _bulk(ctx: dict, rng: random.Random, now: datetime, count: int = 300) -> None:
    users = ctx["users"]
    reps = [users[u].id for u in ("sales1", "sales2", "sales3") if u in users]
    creator = users.get("market1")
    sources = (
        ["fair"] * 4 + ["web"] * 3 + ["referral"] * 2 + ["research", "activity", "ads", "other"]
    )
    seen: set[str] = {name_key(f[0]) for f in FEW}
    customers = []
    while len(customers) < count:
        trade, word = rng.choice(TRADES)
        province, cities = rng.choice(REGIONS)
        city = rng.choice(cities)
        name = f"{city}{rng.choice(PREFIXES)}{word}{rng.choice(FORMS)}"
        key = name_key(name)
        if key in seen:
            continue
        seen.add(key)
        source = rng.choice(sources)
        detail = {
            "fair": rng.choice(FAIRS),
            "referral": f"{_person(rng)}推荐",
            "web": rng.choice(["百度搜索", "阿里巴巴 1688", "行业门户网站"]),
            "activity": "产品体验日",
        }.get(source, "")
        owner = rng.choice(reps + [None]) if reps else None
        created = now - timedelta(days=rng.randint(1, 365), hours=rng.randint(0, 23))
        customers.append(
            {
                "name": name,
                "name_key": key,
                "kind": "company",
                "industry": trade,
                "size": rng.choice(list(COMPANY_SIZES)),
                "province": province,
                "city": city,
                "address": f"{city}市{rng.choice(['高新区', '经济开发区', '工业园区'])}{rng.randint(1, 999)}号",
                "grade": rng.choice("AABBBCCCCC"),
                "status": rng.choice(["potential"] * 4 + ["intent"] * 3 + ["won"] * 2 + ["lost"]),
                "source": source,
                "source_detail": detail,
                "notes": "",
                "owner_id": owner,
                "created_by_id": creator.id if creator else None,
                "assigned_at": created if owner else None,
                "created_at": created,
                "updated_at": created,
            }
        )
    ids = list(
        db.session.scalars(
            insert(Customer).returning(Customer.id, sort_by_parameter_order=True), customers
        )
    )
    contacts = []
    for cid, c in zip(ids, customers, strict=True):
        for n in range(rng.choice((1, 1, 2, 3))):
            phone = _phone(rng)
            contacts.append(
                {
                    "customer_id": cid,
                    "name": _person(rng),
                    "title": rng.choice(TITLES),
                    "phone": phone,
                    "phone_key": phone_key(phone),
                    "email": f"c{cid}_{n}@example.cn",
                    "wechat": "",
                    "is_primary": n == 0,
                    "created_at": c["created_at"],
                    "updated_at": c["created_at"],
                }
            )
    db.session.execute(insert(Contact), contacts)
    followups = []
    today = now.date()
    for cid, c in zip(ids, customers, strict=True):
        if c["owner_id"] is None:
            continue
        day = c["created_at"]
        for _k in range(rng.randint(1, 8)):
            day = day + timedelta(days=rng.randint(3, 40), hours=rng.randint(0, 5))
            if day >= now:
                break
            kind = rng.choice(list(NOTES))
            nxt = day.date() + timedelta(days=rng.randint(3, 21)) if rng.random() < 0.5 else None
            followups.append(
                {
                    "customer_id": cid,
                    "owner_id": c["owner_id"],
                    "kind": kind,
                    "happened_at": day,
                    "notes": rng.choice(NOTES[kind]),
                    "next_date": nxt,
                    "next_action": rng.choice(NEXT_ACTIONS) if nxt else "",
                    # Past reminders count as sent; only the coming ones will be.
                    "reminded_on": nxt if nxt and nxt < today else None,
                    "created_at": day,
                    "updated_at": day,
                }
            )
    if followups:
        db.session.execute(insert(Interaction), followups)
    db.session.execute(
        insert(AuditLog.__table__),
        [
            {
                "at": c["created_at"],
                "actor_id": c["created_by_id"],
                "action": "insert",
                "record_type": "Customer",
                "record_id": cid,
                "record_label": c["name"],
                "changes": {"name": [None, c["name"]], "source": [None, c["source"]]},
                "note": "demo data",
            }
            for cid, c in zip(ids, customers, strict=True)
        ],
    )
