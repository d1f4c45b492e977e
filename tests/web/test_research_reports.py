"""Research reports through the browser's eyes: writing one on a plan, the sanitised
Markdown in the page and the PDF, live blocks, approval by the marketing manager and the
frozen PDF that later data changes do not touch, and who may see what."""

from __future__ import annotations

import subprocess

from sqlalchemy import func, select

from mktapp.core import approvals as engine
from mktapp.core.attachments import file_path
from mktapp.extensions import db
from mktapp.models import (
    Attachment,
    Competitor,
    Group,
    Notification,
    ResearchPlan,
    ResearchReport,
    SurveyQuestion,
    User,
)

PLAN = "华东区智能办公设备市场需求调研"
EVIL = (
    "正常的一段\n\n<script>alert('x')</script>\n\n"
    '<div hx-get="/admin/users" data-x="1">htmx</div>\n\n'
    '<img src="a.png" onerror="alert(1)">\n\n'
    "[点我](javascript:alert(1))\n\n![本地](file:///etc/passwd)\n"
)


def _ids(app):
    with app.app_context():
        plan = db.session.scalar(select(ResearchPlan.id).where(ResearchPlan.title == PLAN))
        groups = list(db.session.scalars(select(Group.id).order_by(Group.id)))
        questions = list(
            db.session.scalars(
                select(SurveyQuestion.id)
                .where(SurveyQuestion.kind.in_(("single", "multi")))
                .join(SurveyQuestion.survey)
                .where(SurveyQuestion.survey.has(plan_id=plan))
                .order_by(SurveyQuestion.id)
            )
        )
        return plan, groups, questions


def _data(plan_id, groups, **changes):
    data = {
        "plan_id": str(plan_id),
        "title": "华东区智能办公设备市场需求调研报告",
        "background": "华东区客户明年有较大的设备更新需求。",
        "objectives": "了解采购规模、预算与关注点。",
        "methodology": "问卷、访谈与网络检索。",
        "findings": "## 采购规模\n\n- **中型企业**为主\n- 预算集中在 10–50 万元",
        "conclusions": "需求真实且集中。",
        "recommendations": "推出按月付费方案。",
        "groups": [str(g) for g in groups[:2]],
    }
    data.update(changes)
    return data


def _report_id(app, title="华东区智能办公设备市场需求调研报告"):
    with app.app_context():
        return db.session.scalar(select(ResearchReport.id).where(ResearchReport.title == title))


def _pdf_text(tmp_path, data: bytes) -> str:
    path = tmp_path / "r.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_market_specialist_writes_a_report_and_sees_it_in_the_list(app, login):
    plan, groups, _ = _ids(app)
    author = login("market1")
    assert author.get(f"/research/reports/new?plan={plan}").status_code == 200
    response = author.post("/research/reports/new", data=_data(plan, groups))
    assert response.status_code == 303
    rid = _report_id(app)
    page = author.get(f"/research/reports/{rid}").get_data(as_text=True)
    assert "<strong>中型企业</strong>" in page and "1. 调研背景" in page
    listing = author.get("/research/reports/?q=智能办公", htmx="report_rows")
    assert "<html" not in listing.get_data(as_text=True)
    assert "华东区智能办公设备市场需求调研报告" in listing.get_data(as_text=True)


def test_report_without_title_or_plan_is_refused_and_nothing_is_saved(app, login):
    plan, groups, _ = _ids(app)
    author = login("market1")
    assert (
        author.post("/research/reports/new", data=_data(plan, groups, title="")).status_code == 422
    )
    assert author.post("/research/reports/new", data=_data(0, groups)).status_code == 422
    assert author.post("/research/reports/new", data=_data(99999, groups)).status_code == 422
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(ResearchReport)) == 1
        )  # the demo's


def test_dangerous_markdown_is_removed_in_the_page_and_the_pdf(app, login, tmp_path):
    plan, groups, _ = _ids(app)
    author = login("market1")
    author.post("/research/reports/new", data=_data(plan, groups, background=EVIL))
    rid = _report_id(app)
    page = author.get(f"/research/reports/{rid}").get_data(as_text=True)
    section = page.split('id="sec-background"', 1)[1].split("</section>", 1)[0]
    assert "正常的一段" in section
    for bad in ("<script", "alert", "hx-get", "data-x", "onerror", "javascript:", "file:"):
        assert bad not in section
    pdf = author.get(f"/research/reports/{rid}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = _pdf_text(tmp_path, pdf.data)
    assert "正常的一段" in text and "alert" not in text


def test_inserted_question_block_shows_the_chart_and_foreign_ids_are_unavailable(app, login):
    plan, groups, questions = _ids(app)
    author = login("market1")
    author.post("/research/reports/new", data=_data(plan, groups))
    rid = _report_id(app)
    response = author.post(
        f"/research/reports/{rid}/blocks",
        data={"section": "findings", "question": str(questions[0]), "against": "0"},
    )
    assert response.status_code == 303
    with app.app_context():
        report = db.session.get(ResearchReport, rid)
        assert f"[[question:{questions[0]}]]" in report.findings
        other = db.session.scalar(
            select(SurveyQuestion.id).where(~SurveyQuestion.survey.has(plan_id=plan))
        )
        report.conclusions = (
            f"看下面\n\n[[question:{other}]]\n\n行内 [[question:{questions[0]}]] 不替换"
        )
        db.session.commit()
    page = author.get(f"/research/reports/{rid}").get_data(as_text=True)
    assert f'id="qblock-{questions[0]}"' in page and "贵公司的员工规模" in page
    conclusions = page.split('id="sec-conclusions"', 1)[1].split("</section>", 1)[0]
    assert "block-unavailable" in conclusions
    assert f"[[question:{questions[0]}]]" in conclusions  # not on its own line: left as text


def test_block_from_another_plan_cannot_be_inserted(app, login):
    plan, groups, questions = _ids(app)
    author = login("market1")
    author.post("/research/reports/new", data=_data(plan, groups))
    rid = _report_id(app)
    with app.app_context():
        other = db.session.scalar(
            select(SurveyQuestion.id).where(~SurveyQuestion.survey.has(plan_id=plan))
        )
    response = author.post(
        f"/research/reports/{rid}/blocks",
        data={"section": "findings", "question": str(other), "against": "0"},
    )
    assert response.status_code == 422
    with app.app_context():
        assert "[[" not in db.session.get(ResearchReport, rid).findings


def test_report_is_approved_and_its_frozen_pdf_does_not_change(app, login, tmp_path):
    plan, groups, questions = _ids(app)
    author = login("market1")
    author.post("/research/reports/new", data=_data(plan, groups))
    rid = _report_id(app)
    assert author.post(f"/research/reports/{rid}/submit").status_code == 303
    with app.app_context():
        report = db.session.get(ResearchReport, rid)
        assert report.status == "pending"
        step_id = engine.pending_step(engine.current_request(report)).id
    assert author.get(f"/research/reports/{rid}/edit").status_code == 422
    manager = login("manager")
    assert f"/approvals/steps/{step_id}/approve" in manager.get(
        f"/research/reports/{rid}"
    ).get_data(as_text=True)
    manager.post(f"/approvals/steps/{step_id}/approve", data={"comment": "同意"})
    with app.app_context():
        report = db.session.get(ResearchReport, rid)
        assert report.status == "approved" and report.pdf_attachment_id
        attachment = db.session.get(Attachment, report.pdf_attachment_id)
        frozen = file_path(attachment).read_bytes()
        assert attachment.content_type == "application/pdf"
        # The departments it is distributed to hear of it (market2 is in the market group).
        market2 = db.session.scalar(select(User).where(User.username == "market2"))
        assert market2.group_id in report.group_ids
        assert db.session.scalar(
            select(Notification.id).where(
                Notification.user_id == market2.id, Notification.title.contains(report.number)
            )
        )
    served = author.get(f"/research/reports/{rid}.pdf")
    assert served.data == frozen
    text = _pdf_text(tmp_path, frozen)
    headings = ["调研背景", "调研目的", "调研方法", "主要发现", "结论", "建议"]
    positions = [text.rindex(h) for h in headings]
    assert positions == sorted(positions)
    assert "目录" in text and "华东区智能办公设备市场需求调研报告" in text
    # The data changes (even the report's text, behind the app's back): the PDF does not.
    with app.app_context():
        report = db.session.get(ResearchReport, rid)
        report.findings = "改过的发现"
        db.session.get(SurveyQuestion, questions[0]).text = "改过的问题"
        db.session.commit()
    assert author.get(f"/research/reports/{rid}.pdf").data == frozen
    assert author.get(f"/attachments/{attachment.id}").status_code == 200


def test_sales_rep_cannot_open_reports_and_executive_only_reads(app, login):
    plan, groups, _ = _ids(app)
    login("market1").post("/research/reports/new", data=_data(plan, groups))
    rid = _report_id(app)
    sales = login("sales1")
    assert sales.get("/research/reports/").status_code == 403
    assert sales.get(f"/research/reports/{rid}").status_code == 403
    boss = login("boss")
    assert boss.get(f"/research/reports/{rid}").status_code == 200
    assert boss.get("/research/reports/new").status_code == 403
    assert boss.post(f"/research/reports/{rid}/submit").status_code == 403
    assert login("market1").get("/research/reports/99999").status_code == 404


def test_submitting_an_unfinished_report_is_refused(app, login):
    plan, groups, _ = _ids(app)
    author = login("market1")
    author.post("/research/reports/new", data=_data(plan, groups, conclusions=""))
    rid = _report_id(app)
    response = author.post(f"/research/reports/{rid}/submit")
    assert response.status_code == 422 and "结论" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ResearchReport, rid).status == "draft"


def test_competitor_comparison_is_inserted_and_an_archived_one_is_unavailable(app, login):
    plan, groups, _ = _ids(app)
    author = login("market1")
    author.post("/research/reports/new", data=_data(plan, groups, title="竞品报告"))
    rid = _report_id(app, "竞品报告")
    with app.app_context():
        a, b = db.session.scalars(select(Competitor.id).order_by(Competitor.id).limit(2))
    response = author.post(
        f"/research/reports/{rid}/competitors",
        data={"cmp-section": "findings", "cmp-competitors": [str(a), str(b)]},
    )
    assert response.status_code == 303
    page = author.get(f"/research/reports/{rid}").get_data(as_text=True)
    findings = page.split('id="sec-findings"', 1)[1].split('id="sec-conclusions"', 1)[0]
    assert "compare-table" in findings and "华信办公科技" in findings
    assert (
        author.post(
            f"/research/reports/{rid}/competitors",
            data={"cmp-section": "findings", "cmp-competitors": ["99999"]},
        ).status_code
        == 422
    )
    with app.app_context():
        db.session.get(Competitor, b).archived_at = db.func.now()
        db.session.commit()
    page = author.get(f"/research/reports/{rid}").get_data(as_text=True)
    findings = page.split('id="sec-findings"', 1)[1].split('id="sec-conclusions"', 1)[0]
    assert "block-unavailable" in findings and "compare-table" not in findings


def test_paging_the_reports_and_the_news_keeps_the_page_in_the_address_bar(login):
    client = login("market1")
    for url in ("/research/reports/?page=2&q=x", "/research/news/?page=2&q=x"):
        response = client.get(url, htmx=True)
        assert response.status_code == 200
        pushed = response.headers.get("HX-Push-Url", "")
        assert "page=2" in pushed and "q=x" in pushed, (url, pushed)
