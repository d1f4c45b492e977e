"""The policy pages (P0, P7.3): read by everyone, edited by the manager and admin, versioned."""

from __future__ import annotations

from sqlalchemy import func, select

from mktapp.extensions import db
from mktapp.models import AuditLog, PolicyChapter, PolicyVersion

EN = {"Accept-Language": "en"}


def chapter(app, code):
    with app.app_context():
        row = db.session.scalar(select(PolicyChapter).where(PolicyChapter.code == code))
        db.session.expunge(row)
        return row


def version_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(PolicyVersion.id)))


def test_sales_rep_reads_the_policy_contents_with_version_and_effective_date(login):
    page = login("sales1").get("/org/policy").get_data(as_text=True)
    assert "1.0" in page and "2026-01-01" in page
    for code, title in (("P0", "总则"), ("P1", "营销组织架构与岗位职责"), ("P6", "营销费用管理")):
        assert f'href="/org/policy/{code}"' in page
        assert title in page
    assert "人员培训、信息管理与附则" in page  # P7, inferred
    assert 'href="/org/policy"' in page  # the sidebar entry


def test_chapter_shows_its_clauses_and_links_to_the_screens_that_exist(login):
    page = login("sales1").get("/org/policy/P1", headers=EN).get_data(as_text=True)
    assert "一、营销组织架构" in page and 'id="P1.2"' in page
    assert 'href="/org/"' in page  # the org chart
    assert 'href="/org/chart.pdf"' in page
    assert "not built yet" not in page


def test_chapter_links_only_the_screens_that_are_built(login):
    page = login("sales1").get("/org/policy/P5", headers=EN).get_data(as_text=True)
    assert "客户关系维护与售后服务" in page
    assert "/service/tickets/" in page  # after-sales (P5.3) is built
    assert "Care plans" not in page  # customer care (P5.1) is not yet
    assert "The screens for this chapter are not built yet." not in page


def test_expense_chapter_says_the_source_text_stops_mid_sentence(login):
    page = login("sales1").get("/org/policy/P6").get_data(as_text=True)
    assert "营销经理应根据财务反馈信" in page
    assert "中断" in page


def test_unknown_chapter_is_404(login):
    c = login("sales1")
    assert c.get("/org/policy/P99").status_code == 404
    assert c.get("/org/policy/P99/edit").status_code in (403, 404)
    assert login("manager").get("/org/policy/P99/edit").status_code == 404


def test_sales_rep_cannot_edit_a_chapter_or_release_a_version(app, login):
    c = login("sales1")
    assert c.get("/org/policy/P0/edit").status_code == 403
    before = chapter(app, "P0").body
    response = c.post("/org/policy/P0/edit", {"title": "改", "body": "改"})
    assert response.status_code == 403
    assert chapter(app, "P0").body == before
    assert c.get("/org/policy/versions/new").status_code == 403
    assert (
        c.post(
            "/org/policy/versions/new",
            {"version": "9", "effective_on": "2026-05-01", "summary": "x"},
        ).status_code
        == 403
    )
    assert version_count(app) == 1
    assert "/org/policy/P0/edit" not in c.get("/org/policy/P0").get_data(as_text=True)


def test_manager_edits_a_chapter_and_the_history_shows_who_and_why(app, login):
    c = login("manager")
    body = chapter(app, "P0").body + "\n\n四、补充条款\n1. 本章新增一条测试条款。"
    response = c.post(
        "/org/policy/P0/edit", {"title": "总则（修订）", "body": body, "reason": "年度修订"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/org/policy/P0")
    saved = chapter(app, "P0")
    assert saved.title == "总则（修订）" and "本章新增一条测试条款" in saved.body
    with app.app_context():
        log = db.session.scalars(
            select(AuditLog).where(
                AuditLog.record_type == "PolicyChapter",
                AuditLog.record_id == saved.id,
                AuditLog.action == "update",
            )
        ).one()
        assert log.note == "年度修订"
        assert set(log.changes) == {"title", "body"}
    page = c.get("/org/policy/P0", headers=EN).get_data(as_text=True)
    assert "年度修订" in page and "王建国" in page and "history-changes" in page
    assert 'id="P0.4"' in page


def test_administrator_may_edit_the_policy(app, login):
    response = login("admin").post(
        "/org/policy/P7/edit", {"title": "附则", "body": "一、附则\n1. 本制度自发布之日起施行。"}
    )
    assert response.status_code == 303
    assert chapter(app, "P7").title == "附则"


def test_chapter_text_is_shown_escaped(app, login):
    c = login("manager")
    c.post(
        "/org/policy/P0/edit",
        {"title": "<b>总则</b>", "body": "<script>alert(1)</script>\n<img src=x onerror=alert(2)>"},
    )
    page = c.get("/org/policy/P0").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "<img src=x" not in page
    assert "<b>总则</b>" not in page


def test_chapter_edit_with_bad_input_is_refused_next_to_the_field(app, login):
    c = login("manager")
    before = chapter(app, "P0")
    cases = [
        ({"title": "", "body": "正文"}, "title"),
        ({"title": "标题", "body": ""}, "body"),
        ({"title": "长" * 121, "body": "正文"}, "title"),
        ({"title": "标题", "body": "正文", "reason": "因" * 201}, "reason"),
    ]
    for data, field in cases:
        response = c.post("/org/policy/P0/edit", data)
        assert response.status_code == 422, data
        page = response.get_data(as_text=True)
        assert f'id="{field}-error"' in page
        assert 'aria-invalid="true"' in page
    after = chapter(app, "P0")
    assert (after.title, after.body) == (before.title, before.body)


def test_chapter_edit_without_csrf_token_is_refused(app, login):
    c = login("manager")
    response = c.post("/org/policy/P0/edit", {"title": "改", "body": "改"}, csrf=False)
    assert response.status_code == 400
    assert chapter(app, "P0").title == "总则"


def test_invalid_edit_over_htmx_returns_only_the_form(login):
    response = login("manager").post("/org/policy/P0/edit", {"title": "", "body": "x"}, htmx=True)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith('<form id="chapter_form"') and "<html" not in page


def test_manager_releases_a_new_version_and_it_is_listed(app, login):
    c = login("manager")
    response = c.post(
        "/org/policy/versions/new",
        {"version": "1.1", "effective_on": "2099-01-01", "summary": "调整第六章费用审批流程。"},
    )
    assert response.status_code == 303
    assert version_count(app) == 2
    page = c.get("/org/policy/versions", headers=EN).get_data(as_text=True)
    assert "1.1" in page and "2099-01-01" in page and "调整第六章费用审批流程" in page
    assert "Planned" in page and "In force" in page
    # The contents page still names the version in force, not the planned one.
    assert "2026-01-01" in c.get("/org/policy").get_data(as_text=True)


def test_release_version_with_bad_input_is_refused_and_nothing_is_written(app, login):
    c = login("manager")
    good = {"version": "2.0", "effective_on": "2026-07-01", "summary": "说明"}
    cases = [
        ({"version": ""}, "version"),
        ({"version": "1.0"}, "version"),  # exists already
        ({"version": "v2"}, "version"),
        ({"version": "1." * 11 + "1"}, "version"),
        ({"effective_on": ""}, "effective_on"),
        ({"effective_on": "2026-02-30"}, "effective_on"),
        ({"effective_on": "tomorrow"}, "effective_on"),
        ({"effective_on": "0001-01-01"}, "effective_on"),
        ({"summary": ""}, "summary"),
        ({"summary": "长" * 5001}, "summary"),
    ]
    for change, field in cases:
        response = c.post("/org/policy/versions/new", {**good, **change})
        assert response.status_code == 422, change
        page = response.get_data(as_text=True)
        assert f'id="{field}-error"' in page, change
    assert version_count(app) == 1
    page = c.post("/org/policy/versions/new", {**good, "version": "1.0"}, headers=EN).get_data(
        as_text=True
    )
    assert "exists already" in page


def test_policy_pdf_downloads(login):
    response = login("service2").get("/org/policy.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")


def test_duplicate_version_is_reported_together_with_other_mistakes(app, login):
    response = login("manager").post(
        "/org/policy/versions/new",
        {"version": "1.0", "effective_on": "", "summary": ""},
        headers=EN,
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in ("version", "effective_on", "summary"):
        assert f'id="{field}-error"' in page
    assert "exists already" in page
    assert version_count(app) == 1


def test_chapter_text_is_read_as_sections_clauses_paragraphs_and_notes():
    from mktapp.org.policy import body_blocks

    blocks = body_blocks(
        "P9",
        "一、目的\n本制度旨在规范。\n\n二、原则\n1. 客户至上原则：以客户为先。\n2.没有标签的条款，很长很长很长。\n【说明】原文在此中断。",
    )
    assert [b.kind for b in blocks] == ["section", "para", "section", "clause", "clause", "note"]
    assert blocks[2].anchor == "P9.2"
    assert (blocks[3].number, blocks[3].label, blocks[3].text) == (
        "1",
        "客户至上原则",
        "以客户为先。",
    )
    assert blocks[4].label == "" and blocks[4].text.startswith("没有标签")
    assert blocks[5].text == "原文在此中断。"


def test_versions_page_lists_the_chapter_edits(login):
    c = login("manager")
    c.post(
        "/org/policy/P3/edit",
        {"title": "品牌推广与市场活动", "body": "一、品牌\n新的正文。", "reason": "精简"},
    )
    page = c.get("/org/policy/versions").get_data(as_text=True)
    assert 'href="/org/policy/P3#history-heading"' in page and "精简" in page
