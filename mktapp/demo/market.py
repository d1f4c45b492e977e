"""Demo competitors, industry news and market figures (P2.3): five competitors of an
office-equipment supplier, twenty industry items over the last months and three segments'
market size from 2022 to 2026 (a few bulk rows, fast)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from mktapp.extensions import db
from mktapp.models import Competitor, IndustryNews, MarketFigure, utcnow

COMPETITORS = [
    (
        "华信办公科技",
        "中高端多功能复印机、A3 彩色打印机、文印管理软件",
        "对标国际品牌、价格低 10%–15%；大客户按年度框架协议定价",
        24.0,
        "直销大客户团队 + 省级代理商；政府采购网入围",
        "季度末整机 9 折；以旧换新补贴 800 元",
        "品牌知名度高，服务网点覆盖 200 个城市",
        "中小企业市场投入少；软件更新慢",
    ),
    (
        "东方影像",
        "黑白激光打印机、入门级复印机、耗材",
        "低价走量，耗材利润为主",
        18.5,
        "电商平台旗舰店、办公用品批发市场",
        "电商大促满减；耗材订阅包",
        "价格有竞争力，线上销量大",
        "售后响应慢，企业客户满意度低",
    ),
    (
        "智印云",
        "按页计费的租赁打印服务、云打印平台",
        "按月付费，每页 0.05–0.12 元，不收设备费",
        9.0,
        "线上获客 + 城市合伙人",
        "首月免费；推荐返现",
        "模式新颖，总体拥有成本低，适合成长型企业",
        "设备品牌杂，规模小，资金压力大",
    ),
    (
        "博远会议系统",
        "会议平板、投影仪、视频会议终端",
        "硬件 + 三年服务打包报价",
        12.0,
        "系统集成商、行业解决方案伙伴",
        "样板间体验；教育行业专项折扣",
        "会议场景方案完整，集成商渠道强",
        "打印类产品线空白；价格偏高",
    ),
    (
        "联创商用设备",
        "碎纸机、装订机、办公小设备",
        "中低价，经销商自主定价",
        6.5,
        "全国经销商网络、办公用品超市",
        "经销商返点与陈列奖励",
        "渠道下沉到三四线城市",
        "产品同质化，品牌弱",
    ),
]

NEWS = [
    (
        "policy",
        "政府采购进一步向节能办公设备倾斜",
        "财政部发布的节能产品政府采购清单更新，更多打印与复印设备纳入强制采购范围。",
        "high",
        5,
    ),
    (
        "policy",
        "数据安全法配套细则涉及打印留痕",
        "重点行业要求打印、复印作业可追溯，文印管理系统需求上升。",
        "high",
        12,
    ),
    (
        "policy",
        "小微企业设备购置税收优惠延续",
        "单价 500 万元以下设备一次性税前扣除政策延续至 2027 年底。",
        "medium",
        20,
    ),
    (
        "policy",
        "电子废弃物回收新规征求意见",
        "生产者责任延伸制度拟覆盖办公设备，回收成本可能上升。",
        "medium",
        33,
    ),
    (
        "policy",
        "部分省份推进政务无纸化",
        "政务大厅打印量下降，但高安全等级打印需求仍在。",
        "low",
        41,
    ),
    (
        "technology",
        "国产打印主控芯片量产",
        "多家厂商宣布采用国产主控芯片，整机成本有望下降 5% 左右。",
        "high",
        8,
    ),
    (
        "technology",
        "云打印与移动打印普及",
        "超过六成受访企业员工使用手机直接打印，云打印平台竞争加剧。",
        "medium",
        15,
    ),
    (
        "technology",
        "AI 文档识别集成到多功能一体机",
        "扫描即分类、自动提取发票信息，成为高端机型卖点。",
        "medium",
        26,
    ),
    (
        "technology",
        "会议平板进入 4K 与无线投屏标配时代",
        "会议平板价格下探，中小会议室采购意愿增强。",
        "low",
        38,
    ),
    ("technology", "碳粉耗材再制造技术成熟", "再制造耗材质量接近原装，价格低 30%。", "low", 52),
    (
        "hotspot",
        "办公设备租赁模式增长迅速",
        "按月付费的租赁服务在成长型企业中渗透率快速提升。",
        "high",
        3,
    ),
    (
        "hotspot",
        "混合办公带动家用商用打印机需求",
        "远程办公员工的家用商用机采购由企业统一报销。",
        "medium",
        18,
    ),
    ("hotspot", "信创替代进入教育与医疗行业", "教育、医疗单位开始采购国产化办公设备。", "high", 24),
    (
        "hotspot",
        "电商大促中办公设备销量创新高",
        "某电商平台办公设备品类销售额同比增长 28%。",
        "low",
        45,
    ),
    ("hotspot", "行业展会聚焦绿色办公", "华东国际办公设备展上，节能与可回收成为主题。", "low", 60),
    (
        "pain_point",
        "客户普遍反映售后响应慢",
        "多份调研显示，维修响应超过 24 小时是客户流失的首要原因。",
        "high",
        6,
    ),
    ("pain_point", "耗材价格不透明", "中小企业抱怨耗材价格频繁变动、难以预算。", "medium", 22),
    (
        "pain_point",
        "多品牌设备管理困难",
        "企业 IT 部门需要统一的设备监控与计费平台。",
        "medium",
        30,
    ),
    ("pain_point", "打印安全管理缺位", "敏感文件遗留在打印机出纸盒的情况普遍。", "medium", 48),
    ("pain_point", "设备操作培训不足", "新员工对多功能一体机的高级功能使用率不到 20%。", "low", 70),
]


# segment, source, size by year (万元) from 2022 to 2026 (the last one a forecast).
FIGURES = [
    (
        "打印复印设备 · 华东",
        "中国办公设备行业协会年度报告",
        [412000, 425000, 431000, 437000, 440000],
    ),
    ("会议平板 · 华东", "行业研究机构市场规模测算", [86000, 104000, 121000, 139000, 158000]),
    (
        "办公设备租赁服务 · 华东",
        "本公司调研测算（访谈 + 招标数据）",
        [21000, 28000, 37000, 49000, 63000],
    ),
]


def seed(ctx) -> None:
    now = utcnow()
    db.session.execute(
        insert(Competitor),
        [
            {
                "name": name,
                "products": products,
                "pricing": pricing,
                "market_share": share,
                "channels": channels,
                "promotions": promotions,
                "strengths": strengths,
                "weaknesses": weaknesses,
                "created_at": now,
                "updated_at": now,
            }
            for name, products, pricing, share, channels, promotions, strengths, weaknesses in COMPETITORS
        ],
    )
    market1 = ctx["users"]["market1"]
    today = ctx["today"]
    db.session.execute(
        insert(IndustryNews),
        [
            {
                "category": category,
                "title": title,
                "summary": summary,
                "source_url": f"https://www.example.com/news/{i + 1}",
                "published_on": today - timedelta(days=days),
                "impact": impact,
                "added_by_id": market1.id,
                "created_at": now,
                "updated_at": now,
            }
            for i, (category, title, summary, impact, days) in enumerate(NEWS)
        ],
    )
    db.session.flush()
    rows = []
    for segment, source, sizes in FIGURES:
        for i, size in enumerate(sizes):
            growth = None if i == 0 else round((size / sizes[i - 1] - 1) * 100, 1)
            note = "（预测）" if i == len(sizes) - 1 else ""
            rows.append(
                {
                    "segment": segment,
                    "year": 2022 + i,
                    "size": float(size),
                    "growth": growth,
                    "source": source + note,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    db.session.execute(insert(MarketFigure), rows)
    db.session.flush()
