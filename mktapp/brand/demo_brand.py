"""Demo brand chapter (P3): the brand strategy in two versions, and (only when DEMO_BRAND is
on, as in the full demo and the browser tests) twelve market activities over the past
year in every state, with budget lines, staff, tasks, participants, claims, leads,
opportunities, a contract and evaluations.

The approval and evaluation services are written separately, so the activities are made
directly as records, one function per state (`_draft`, `_pending` ... `_evaluated`):
each can later be rewired to call the service that moves a real activity into it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

from flask import current_app
from werkzeug.datastructures import FileStorage

from mktapp.core.attachments import save_upload
from mktapp.extensions import db
from mktapp.models import BrandChannel, BrandStrategy, User

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
    from PIL import Image, ImageDraw

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
    from mktapp.expense.demo_claims import tiny_pdf

    manager = ctx["users"]["manager"]
    now = datetime.now(UTC)
    first = _strategy(manager, 1, STRATEGY_V1, CHANNELS_V1, now - timedelta(days=330))
    second_values = dict(STRATEGY_V1)
    second_values.update(
        slogan="智联办公，值得信赖",
        change_note="根据下半年客户调研结果调整口号，突出“智联”与服务；新增抖音企业号渠道，"
        "面向年轻的行政和采购人员。",
    )
    made = [first]
    if current_app.config.get("DEMO_BRAND", not current_app.testing):
        from mktapp.brand import routes_strategy  # noqa: F401  (registers the attachable)

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


def seed_activities(ctx: dict) -> None:
    """Twelve activities (filled in below)."""
