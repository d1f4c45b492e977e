"""Demo market research: one plan in each state (through the approval engine), a product
questionnaire being built, and a customer-satisfaction survey run over two quarters with
300 responses (bulk-inserted; only when DEMO_RESEARCH is on, as in the full demo).

The satisfaction answers follow realistic distributions: most customers rate 4, the
second quarter is a little better than the first (service response time improved),
and NPS is moderately positive.
"""

from __future__ import annotations

import random
from contextlib import nullcontext
from datetime import datetime, timedelta

from flask import current_app, has_request_context
from sqlalchemy import insert, select

from mktapp.core import approvals as engine
from mktapp.core import clock, fragments
from mktapp.demo import market as demo_market
from mktapp.extensions import db
from mktapp.models import (
    Competitor,
    Customer,
    Group,
    Survey,
    SurveyAnswer,
    SurveyResponse,
    User,
)
from mktapp.research import plans as plan_svc
from mktapp.research import reports as report_svc
from mktapp.research import surveys as survey_svc

PLANS = [
    # title, contents, methods, start offset (days from today), length, final status
    (
        "2026年度客户满意度调研（上半年）",
        ["satisfaction"],
        ["questionnaire", "interview"],
        -150,
        60,
        "done",
    ),
    (
        "华东区智能办公设备市场需求调研",
        ["demand"],
        ["questionnaire", "web_search", "interview"],
        -30,
        75,
        "in_progress",
    ),
    (
        "主要竞争对手产品与价格跟踪",
        ["competitors"],
        ["web_search", "observation"],
        10,
        45,
        "approved",
    ),
    ("行业政策与技术趋势专题研究", ["industry"], ["web_search", "focus_group"], 20, 40, "pending"),
    (
        "经销商渠道满意度访谈",
        ["satisfaction", "competitors"],
        ["interview", "focus_group"],
        35,
        30,
        "rejected",
    ),
    (
        "下半年新品概念测试",
        ["demand", "competitors"],
        ["questionnaire", "focus_group"],
        60,
        50,
        "draft",
    ),
]

SATISFACTION_QUESTIONS = [
    ("section", "一、总体评价", "", False, ""),
    ("rating", "总体而言，您对我们的产品和服务满意吗？", "", True, ""),
    ("rating", "产品质量", "", True, ""),
    ("rating", "售后服务响应速度", "", True, ""),
    ("rating", "销售人员的专业程度", "", True, ""),
    ("nps", "您有多大可能向同行推荐我们？", "0 表示完全不可能，10 表示非常可能", True, ""),
    ("section", "二、采购情况", "", False, ""),
    ("single", "您与我们合作多久了？", "", True, "不到1年\n1–3年\n3–5年\n5年以上"),
    (
        "multi",
        "您最看重供应商的哪些方面？（可多选）",
        "",
        False,
        "价格\n产品质量\n交货及时\n售后服务\n技术支持\n品牌口碑",
    ),
    ("number", "贵公司每年在同类产品上的采购额大约是多少万元？", "", False, ""),
    ("long_text", "您对我们还有什么意见或建议？", "", False, ""),
]

COMMENTS = [
    "希望售后响应能再快一些，尤其是节假日。",
    "产品质量稳定，价格略高。",
    "销售经理很专业，沟通顺畅。",
    "希望提供更多的培训资料和使用指导。",
    "交货周期偏长，旺季经常延迟。",
    "整体满意，会继续合作。",
    "建议增加线上下单和查询物流的功能。",
    "技术支持很到位，解决问题及时。",
]


def _user(ctx, name: str) -> User:
    return ctx["users"][name]


def seed(ctx) -> None:
    today = ctx["today"]
    market1, market2 = _user(ctx, "market1"), _user(ctx, "market2")
    manager = _user(ctx, "manager")
    plans = {}
    for i, (title, contents, methods, offset, length, status) in enumerate(PLANS):
        author = market1 if i % 2 == 0 else market2
        start = today + timedelta(days=offset)
        plan = plan_svc.create_plan(
            author,
            plan_svc.PlanInput(
                title=title,
                purpose=f"了解{title.split('（')[0]}的现状与变化，为下一阶段的营销决策提供依据。",
                subjects="重点客户、经销商及潜在客户；华东、华南两个区域。",
                contents=contents,
                methods=methods,
                start_on=start,
                end_on=start + timedelta(days=length),
            ),
        )
        for k, step in enumerate(("方案设计与问卷定稿", "数据收集", "数据分析", "撰写调研报告")):
            due = start + timedelta(days=int(length * (k + 1) / 4))
            milestone = plan_svc.add_milestone(author, plan, due, step)
            milestone.done = status == "done" or (status == "in_progress" and due < today)
        plan_svc.assign(author, plan, market1.id, "方案设计、问卷与数据分析")
        plan_svc.assign(author, plan, market2.id, "访谈、资料收集与报告撰写")
        if status != "draft":
            plan_svc.submit(author, plan)
            step = engine.pending_step(engine.current_request(plan))
            if status == "rejected":
                engine.reject(
                    step.id, manager, "调研范围太宽，请聚焦华东区的重点经销商，并补充预算。"
                )
            elif status != "pending":
                engine.approve(step.id, manager, "同意，注意控制调研费用。")
                if status in ("in_progress", "done"):
                    plan_svc.start(author, plan)
                if status == "done":
                    plan_svc.finish(author, plan)
        plans[status] = plan
        db.session.flush()

    running = plans["in_progress"]
    plan_svc.add_note(
        market2,
        running,
        plan_svc.NoteInput(
            method="interview",
            held_on=today - timedelta(days=12),
            title="上海某贸易公司采购经理访谈",
            participants="张经理（采购部）、赵磊",
            notes="客户明年计划更换约 200 台办公打印设备，最关注维保响应时间和总体拥有成本。\n"
            "对竞品的租赁模式有兴趣，希望我们也能提供按月付费方案。",
        ),
    )
    plan_svc.add_note(
        market1,
        running,
        plan_svc.NoteInput(
            method="web_search",
            held_on=today - timedelta(days=8),
            title="行业报告与招标信息检索",
            participants="李晓梅",
            notes="检索政府采购网近半年同类设备招标 37 条，平均中标价下降约 6%。",
        ),
    )

    # A questionnaire being built for the market-demand plan.
    draft = survey_svc.create_survey(
        market1,
        "智能办公设备采购需求问卷",
        "本问卷约需 3 分钟，感谢您的支持！",
        "general",
        running.id,
        "",
    )
    survey_svc.add_question(
        market1,
        draft,
        "single",
        "贵公司的员工规模",
        "",
        True,
        "50人以下\n50–200人\n200–1000人\n1000人以上",
    )
    survey_svc.add_question(
        market1,
        draft,
        "multi",
        "未来一年计划采购哪些设备？",
        "",
        False,
        "打印机\n复印机\n投影仪\n会议平板\n碎纸机",
    )
    survey_svc.add_question(market1, draft, "number", "预计采购预算（万元）", "", False, "")

    # The satisfaction series: last quarter (closed) and this quarter (open).
    first = survey_svc.create_survey(
        market1,
        "客户满意度调查",
        "感谢您一直以来的支持！本调查约需 3 分钟，您的意见将帮助我们改进产品和服务。",
        "satisfaction",
        plans["done"].id,
        "上季度",
    )
    for kind, text, help_text, required, options in SATISFACTION_QUESTIONS:
        survey_svc.add_question(market1, first, kind, text, help_text, required, options)
    now = clock.now()
    survey_svc.publish(market1, first, None, None, now=now - timedelta(days=120))
    first.published_at = now - timedelta(days=120)
    second = survey_svc.copy_as_period(market1, first, "本季度")
    survey_svc.publish(market1, second, None, None, now=now - timedelta(days=30))
    second.published_at = now - timedelta(days=30)
    db.session.flush()
    if current_app.config.get("DEMO_RESEARCH", not current_app.testing):
        _responses(first, 160, now - timedelta(days=118), 60, improve=0.0)
        _responses(second, 140, now - timedelta(days=28), 26, improve=0.35)
        survey_svc.close(market1, first)
        first.closed_at = now - timedelta(days=55)
    demo_market.seed(ctx)
    _report(market1, manager, plans["done"], first)


def _report(author: User, manager: User, plan, survey: Survey) -> None:
    """The satisfaction plan's report with live blocks; approved (and its PDF frozen)
    only when DEMO_RESEARCH is on -- the PDF render takes about a second."""

    by_text = {q.text: q.id for q in survey.questions}
    overall = by_text["总体而言，您对我们的产品和服务满意吗？"]
    years = by_text["您与我们合作多久了？"]
    groups = list(db.session.scalars(select(Group.id).order_by(Group.sort).limit(3)))
    rivals = ",".join(
        str(i)
        for i in db.session.scalars(
            select(Competitor.id).order_by(Competitor.market_share.desc()).limit(3)
        )
    )
    report = report_svc.create_report(
        author,
        report_svc.ReportInput(
            plan_id=plan.id,
            title="2026年上半年客户满意度调研报告",
            sections={
                "background": "公司每半年开展一次客户满意度调研。上季度售后响应慢的投诉较多，"
                "本季度起实行**4 小时响应**承诺。",
                "objectives": "1. 衡量客户总体满意度和 NPS\n2. 找出影响满意度的主要因素\n"
                "3. 检验售后响应改进的效果",
                "methodology": "| 方法 | 对象 | 数量 |\n|---|---|---|\n| 在线问卷 | 重点客户 | 300 份 |\n"
                "| 电话访谈 | 采购负责人 | 12 人 |",
                "findings": f"## 总体满意度\n\n多数客户给出 4 分，较上季度略有提升。\n\n"
                f"[[question:{overall}]]\n\n## 合作年限与满意度\n\n[[crosstab:{years}:{overall}]]\n",
                "conclusions": "售后响应改进初见成效；老客户的满意度明显高于新客户。"
                f"主要竞争对手的服务承诺如下：\n\n[[competitors:{rivals}]]\n",
                "recommendations": "- 将 4 小时响应承诺写入服务合同\n- 为合作不满 1 年的客户安排回访\n"
                "- 下季度继续跟踪 NPS",
            },
            group_ids=groups,
        ),
        clock.today().year,
    )
    if current_app.config.get("DEMO_RESEARCH", not current_app.testing):
        report_svc.submit(author, report)
        step = engine.pending_step(engine.current_request(report))
        # The PDF is rendered in the default locale, which is chosen per request.
        with nullcontext() if has_request_context() else current_app.test_request_context("/"):
            engine.approve(step.id, manager, "同意分发。")
    db.session.flush()


def _pick(weights: dict, rng: random.Random):
    values, w = zip(*weights.items(), strict=True)
    return rng.choices(values, weights=w)[0]


def _responses(survey: Survey, count: int, start: datetime, days: int, improve: float) -> None:
    """Bulk-insert `count` responses over `days` days from `start`."""
    rng = random.Random(20260 + survey.id)
    customers = list(
        db.session.execute(
            select(Customer.id).where(Customer.archived_at.is_(None)).limit(400)
        ).scalars()
    )
    questions = [q for q in survey.questions if q.kind != "section"]
    responses, plan = [], []
    base = {1: 3, 2: 7, 3: 20, 4: 42, 5: 28}
    for n in range(count):  # noqa: B007
        channel = _pick({"link": 55, "invite": 30, "phone": 15}, rng)
        at = start + timedelta(days=rng.random() * days, hours=rng.randint(0, 9))
        customer = rng.choice(customers) if customers and channel != "link" else None
        responses.append(
            {
                "survey_id": survey.id,
                "submitted_at": at.replace(tzinfo=None),
                "channel": channel,
                "customer_id": customer,
                "respondent": "",
                "locale": "zh_Hans",
            }
        )
        mood = rng.gauss(improve, 0.8)  # one respondent's general satisfaction
        answers: list[dict] = []
        rid = n
        plan.append(answers)
        for q in questions:
            if q.kind == "rating":
                weights = dict(base)
                if "响应" in q.text:
                    weights = {
                        1: 6 - 3 * improve,
                        2: 12 - 6 * improve,
                        3: 26,
                        4: 36,
                        5: 20 + 10 * improve,
                    }
                value = _pick(weights, rng)
                value = max(1, min(5, round(value + mood * 0.6)))
                answers.append(
                    {"response_id": rid, "question_id": q.id, "num": float(value), "text": None}
                )
            elif q.kind == "nps":
                value = max(0, min(10, round(rng.gauss(7.6 + mood * 1.3, 1.7))))
                answers.append(
                    {"response_id": rid, "question_id": q.id, "num": float(value), "text": None}
                )
            elif q.kind == "single":
                answers.append(
                    {
                        "response_id": rid,
                        "question_id": q.id,
                        "num": float(_pick({0: 15, 1: 35, 2: 30, 3: 20}, rng)),
                        "text": None,
                    }
                )
            elif q.kind == "multi":
                if rng.random() < 0.85:
                    chosen = rng.sample(range(len(q.option_list)), k=rng.randint(1, 3))
                    for i in sorted(chosen):
                        answers.append(
                            {"response_id": rid, "question_id": q.id, "num": float(i), "text": None}
                        )
            elif q.kind == "number":
                if rng.random() < 0.6:
                    answers.append(
                        {
                            "response_id": rid,
                            "question_id": q.id,
                            "num": float(round(rng.lognormvariate(3.3, 0.8))),
                            "text": None,
                        }
                    )
            elif q.is_text and rng.random() < 0.3:
                answers.append(
                    {
                        "response_id": rid,
                        "question_id": q.id,
                        "num": None,
                        "text": rng.choice(COMMENTS),
                    }
                )
    ids = list(
        db.session.scalars(
            insert(SurveyResponse).returning(SurveyResponse.id, sort_by_parameter_order=True),
            responses,
        )
    )
    rows = []
    for rid, answers in zip(ids, plan, strict=True):
        for answer in answers:
            rows.append({**answer, "response_id": rid})
    db.session.execute(insert(SurveyAnswer), rows)
    survey.response_count = count
    fragments.bump(db.session.connection(), ["surveys"])
