#!/usr/bin/env python3
"""Benchmark: a 20-question questionnaire with 10,000 responses (issue 5, "Speed").

Reuses bench/pages.py (database, gunicorn, load generator) and adds:

1. A published questionnaire of 20 questions (single and multiple choice, ratings, NPS,
   numbers, texts) and --responses responses (default 10,000) bulk-inserted with
   realistic answers, spread over the last 90 days and three channels.
2. The analysis: server time in process (median of --repeat) of the SQL aggregation
   alone (analysis.survey_blocks), of one cross-tab with its chi-square test, and of the
   whole /research/surveys/<id>/analysis page rendered by the test client (target: the
   analysis <= 300 ms), with its number of SQL statements.
3. The public questionnaire page (/research/s/<token>, no login) against the bare page:
   requests/s under gunicorn (target: ratio >= 0.5).
4. The research report PDF: a report on the questionnaire's plan with long sections and a
   chart block per question (at least 10 pages; 17 here), rendered by WeasyPrint (median of 3; target
   <= 2 s), with its page count read by pdfinfo when poppler-utils is installed.

Run from the repository root:  .venv/bin/python bench/research.py [--db URL] [--responses 10000]
Small proof run:               .venv/bin/python bench/research.py --responses 300 --seconds 2
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pages  # noqa: E402  (bench/pages.py: the shared machinery)

QUESTIONS = [
    ("section", "一、基本情况", ""),
    ("single", "贵公司所在行业", "制造业\n批发零售\n信息技术\n教育\n医疗\n其他"),
    ("single", "员工规模", "50人以下\n50–200人\n200–1000人\n1000人以上"),
    ("single", "合作年限", "不到1年\n1–3年\n3–5年\n5年以上"),
    ("multi", "采购时最看重的因素", "价格\n质量\n交期\n服务\n技术\n品牌"),
    ("number", "年采购额（万元）", ""),
    ("section", "二、满意度", ""),
    ("rating", "总体满意度", ""),
    ("rating", "产品质量", ""),
    ("rating", "交货及时性", ""),
    ("rating", "售后响应速度", ""),
    ("rating", "技术支持", ""),
    ("rating", "销售人员专业程度", ""),
    ("rating", "价格合理性", ""),
    ("nps", "推荐可能性", ""),
    ("single", "明年是否会增加采购", "会\n不会\n不确定"),
    ("multi", "希望增加的服务", "上门培训\n线上下单\n延长保修\n以旧换新"),
    ("number", "计划采购台数", ""),
    ("short_text", "一句话评价", ""),
    ("long_text", "意见和建议", ""),
    ("single", "获知我们的渠道", "展会\n朋友介绍\n网络搜索\n销售拜访"),
    ("rating", "官网使用体验", ""),
]


def fill_survey(n_responses: int, seed: int = 11) -> tuple[int, str]:
    """The questionnaire and its responses (bulk); returns (survey id, public token)."""
    from sqlalchemy import insert, select

    from mktapp import create_app
    from mktapp.core import clock, fragments
    from mktapp.extensions import db
    from mktapp.models import Survey, SurveyAnswer, SurveyResponse, User
    from mktapp.research import surveys as svc

    app = create_app()
    rng = random.Random(seed)
    with app.test_request_context():
        found = db.session.scalar(select(Survey).where(Survey.title == "基准问卷"))
        if found is not None:
            return found.id, found.token
        author = db.session.scalar(select(User).where(User.username == "market1"))
        survey = svc.create_survey(
            author, "基准问卷", "二十道题的基准问卷。", "satisfaction", None, "B"
        )
        for kind, text, options in QUESTIONS:
            svc.add_question(author, survey, kind, text, "", kind == "rating", options)
        svc.publish(author, survey, None, None)
        db.session.commit()
        questions = [q for q in survey.questions if q.kind != "section"]
        now = clock.now().replace(tzinfo=None)
        batch = 2000
        done = 0
        while done < n_responses:
            size = min(batch, n_responses - done)
            rows = [
                {
                    "survey_id": survey.id,
                    "submitted_at": now - timedelta(minutes=rng.randint(0, 90 * 24 * 60)),
                    "channel": rng.choices(("link", "invite", "phone"), (6, 3, 1))[0],
                    "respondent": "",
                    "locale": "zh_Hans",
                }
                for _ in range(size)
            ]
            ids = list(
                db.session.scalars(
                    insert(SurveyResponse).returning(
                        SurveyResponse.id, sort_by_parameter_order=True
                    ),
                    rows,
                )
            )
            answers = []
            for rid in ids:
                mood = rng.gauss(0, 0.8)
                for q in questions:
                    if q.kind == "single":
                        value = rng.randrange(len(q.option_list))
                        answers.append((rid, q.id, float(value), None))
                    elif q.kind == "multi":
                        for i in rng.sample(range(len(q.option_list)), rng.randint(1, 3)):
                            answers.append((rid, q.id, float(i), None))
                    elif q.kind == "rating":
                        value = max(1, min(5, round(rng.gauss(3.9 + mood * 0.6, 0.8))))
                        answers.append((rid, q.id, float(value), None))
                    elif q.kind == "nps":
                        value = max(0, min(10, round(rng.gauss(7.5 + mood, 1.8))))
                        answers.append((rid, q.id, float(value), None))
                    elif q.kind == "number" and rng.random() < 0.7:
                        answers.append((rid, q.id, float(round(rng.lognormvariate(3, 1))), None))
                    elif q.is_text and rng.random() < 0.25:
                        answers.append((rid, q.id, None, "整体不错，希望交期更稳定。"))
            db.session.execute(
                insert(SurveyAnswer),
                [
                    {"response_id": r, "question_id": q, "num": n, "text": t}
                    for r, q, n, t in answers
                ],
            )
            done += size
            db.session.commit()
        survey.response_count = n_responses
        fragments.bump(db.session.connection(), ["surveys"])
        db.session.commit()
        result = survey.id, survey.token
        db.session.remove()
        db.engine.dispose()
    return result


def time_analysis(survey_id: int, username: str, repeat: int) -> dict:
    """Median server time of the aggregation, one cross-tab, and the whole analysis page."""

    from mktapp import create_app
    from mktapp.extensions import db
    from mktapp.models import Survey
    from mktapp.research import analysis

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    out: dict = {}
    with app.test_request_context():
        survey = db.session.get(Survey, survey_id)
        singles = [q.id for q in survey.questions if q.kind == "single"]
        rating = next(q.id for q in survey.questions if q.kind == "rating")
        analysis.survey_blocks(survey)  # warm
        for name, call in (
            ("aggregation (20 questions)", lambda: analysis.survey_blocks(survey)),
            ("cross-tab + chi-square", lambda: analysis.crosstab_block(singles[0], rating)),
        ):
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                call()
                times.append((time.perf_counter() - t0) * 1000)
            out[name] = statistics.median(times)
        db.session.rollback()
    client = app.test_client()
    client.post("/auth/login", data={"username": username, "password": "mktapp-demo-2026"})
    path = f"/research/surveys/{survey_id}/analysis"
    assert client.get(path).status_code == 200
    out["analysis page"], out["statements"] = pages.time_requests(app, client, path, repeat)
    return out


def time_report_pdf(survey_id: int) -> dict:
    """Render a ~10-page research report on the questionnaire's plan; median of 3 runs."""
    import subprocess
    from datetime import date

    from mktapp import create_app
    from mktapp.extensions import db
    from mktapp.models import ResearchPlan, ResearchReport, Survey, User
    from mktapp.research import reports

    app = create_app()
    with app.test_request_context():
        survey = db.session.get(Survey, survey_id)
        author = db.session.get(User, survey.owner_id)
        if survey.plan_id is None:
            plan = ResearchPlan(
                number="YJ-BENCH-0001",
                title="基准调研计划",
                owner_id=author.id,
                start_on=date(2026, 1, 1),
                end_on=date(2026, 12, 31),
                status="approved",
            )
            db.session.add(plan)
            db.session.flush()
            survey.plan_id = plan.id
        paragraph = (
            "本次调研覆盖华东、华南与华北三个区域的重点客户，采用线上问卷与电话访谈相结合的"
            "方式，问卷回收后经过逻辑校验与去重处理。"
        ) * 4
        markers = [f"[[question:{q.id}]]" for q in survey.questions if q.kind != "section"]
        sections = {key: "\n\n".join([paragraph] * 3) for key in reports.REPORT_SECTIONS}
        sections["findings"] = "\n\n".join(
            f"### 发现 {i + 1}\n\n{paragraph}\n\n{m}" for i, m in enumerate(markers[:12])
        )
        report = ResearchReport(
            number="YB-BENCH-0001",
            plan_id=survey.plan_id,
            owner_id=author.id,
            title="基准调研报告",
            status="draft",
            **sections,
        )
        db.session.add(report)
        db.session.flush()
        reports.render_report_pdf(report)  # warm: fonts and templates
        times, pdf = [], b""
        for _ in range(3):
            t0 = time.perf_counter()
            pdf = reports.render_report_pdf(report)
            times.append(time.perf_counter() - t0)
        db.session.rollback()
        db.engine.dispose()
    pages_count = None
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True).stdout.decode()
        for line in info.splitlines():
            if line.startswith("Pages:"):
                pages_count = int(line.split()[1])
    return {"seconds": statistics.median(times), "pages": pages_count, "bytes": len(pdf)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=10_000, help="responses (10000)")
    parser.add_argument("--users", type=int, default=50, help="users in the table (50)")
    parser.add_argument("--repeat", type=int, default=9, help="timings of the analysis (9)")
    parser.add_argument("--user", default="market1", help="demo user for the analysis")
    parser.add_argument("--no-load", action="store_true", help="skip the gunicorn load test")
    pages.common_arguments(parser)
    args = parser.parse_args()

    results: dict = {}
    with pages.bench_environment("research", args) as env:
        total_users, _ = pages.fill_database(args.users)
        print(f"  {total_users} users")
        t0 = time.perf_counter()
        survey_id, token = fill_survey(args.responses)
        print(
            f"  questionnaire {survey_id}: 20 questions, {args.responses} responses "
            f"({time.perf_counter() - t0:.1f} s to load)"
        )
        timing = time_analysis(survey_id, args.user, args.repeat)
        pdf = time_report_pdf(survey_id)
        public_path = f"/research/s/{token}"
        public_statements = pages.count_statements(public_path, args.user)
        if not args.no_load:
            results = pages.load_beside_bare(env, args, public_path, None)

    print()
    print(f"analysis (server time, in process, median of {args.repeat} runs):")
    for name in ("aggregation (20 questions)", "cross-tab + chi-square", "analysis page"):
        print(f"  {name:<30}{timing[name]:>8.1f} ms")
    verdict = "meets" if timing["analysis page"] <= 300 else "ABOVE"
    print(
        f"  the analysis page {verdict} the target of 300 ms; it runs {timing['statements']} "
        "SQL statements"
    )
    print(f"public questionnaire: {public_statements} SQL statements per request")
    verdict = "meets" if pdf["seconds"] <= 2 else "ABOVE"
    print(
        f"report PDF: {pdf['pages']} pages, {pdf['bytes'] // 1024} KiB in "
        f"{pdf['seconds']:.2f} s (median of 3; {verdict} the target of 2 s)"
    )
    return pages.print_load(results) if results else 0


if __name__ == "__main__":
    sys.exit(main())
