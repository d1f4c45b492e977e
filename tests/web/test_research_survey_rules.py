"""Questionnaire rules of issue 11 (item 9) and the analysis's intervals (item 7), as a
user sees them: the closing date shows as entered, a questionnaire of an unapproved plan
cannot be published (and the button says why), a published one has a copy button and a
QR code, one answer per browser or per invitation, "too few" instead of an interval, the
industry news as a compact table and the timeline's hidden table kept from widening it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import select

from mktapp.extensions import db
from mktapp.models import Customer, ResearchPlan, Survey, SurveyInvitation
from mktapp.research import surveys as svc
from tests.web.test_research_surveys import _anonymous, _built, _public_post, _stored


def _settings(client, sid, **changes):
    data = {"title": "渠道调研问卷", "intro": "", "kind": "general", "period": "", "plan_id": "0"}
    data.update(changes)
    return client.post(f"/research/surveys/{sid}/edit", data=data)


# --- the closing date ----------------------------------------------------------------------


def test_closing_date_entered_as_the_last_day_shows_as_that_day(app, login):
    client, sid, _token, _qids = _built(app, login, publish=False)
    published = client.post(
        f"/research/surveys/{sid}/publish", data={"closes_on": "2027-01-31", "cap": ""}
    )
    assert published.status_code == 303
    page = client.get(f"/research/surveys/{sid}").get_data(as_text=True)
    assert "2027-01-31" in page and "2027-02-01" not in page
    assert "当天结束前均可作答" in page
    with app.test_request_context():
        survey = db.session.get(Survey, sid)
        # Answers are taken until the end of that day in Shanghai (16:00 UTC).
        assert survey.closes_at == datetime(2027, 1, 31, 16, 0, tzinfo=UTC)
        assert svc.closes_on(survey).isoformat() == "2027-01-31"
        after = datetime(2027, 2, 3, tzinfo=UTC)
        assert not svc.accepting(survey, after)
        assert "2027-01-31" in svc.closed_reason(survey, after)
    sheet = load_workbook(BytesIO(client.get("/research/surveys.xlsx").data)).active
    rows = list(sheet.iter_rows(values_only=True))
    closes = rows[0].index("截止时间")
    mine = next(r for r in rows if r[0] == "渠道调研问卷")
    assert mine[closes].date().isoformat() == "2027-01-31"


# --- publishing waits for the plan ------------------------------------------------------------


def _plan_id(app, status: str) -> int:
    with app.app_context():
        return db.session.scalar(select(ResearchPlan.id).where(ResearchPlan.status == status))


def test_questionnaire_of_a_plan_under_review_cannot_be_published(app, login):
    client, sid, _token, _qids = _built(app, login, publish=False)
    pending = _plan_id(app, "pending")
    assert _settings(client, sid, plan_id=str(pending)).status_code == 303
    page = client.get(f"/research/surveys/{sid}").get_data(as_text=True)
    assert "计划批准后才能发布问卷" in page and "审批中" in page
    assert re.search(r'<button type="submit" class="btn btn-primary" disabled[^>]*>发布<', page)
    refused = client.post(f"/research/surveys/{sid}/publish", data={"closes_on": "", "cap": ""})
    assert refused.status_code == 422
    assert "计划批准后才能发布问卷" in refused.get_data(as_text=True)
    with app.app_context():
        survey = db.session.get(Survey, sid)
        assert (survey.status, survey.token) == ("draft", None)


def test_questionnaire_of_a_draft_plan_is_refused_by_the_service(app, login, app_ctx):
    _client, sid, _token, _qids = _built(app, login, publish=False)
    survey = db.session.get(Survey, sid)
    survey.plan_id = _plan_id(app, "draft")
    db.session.flush()
    blocker = svc.publish_blocker(survey)
    assert blocker and "草稿" in blocker
    try:
        svc.publish(survey.owner, survey, None, None)
    except svc.SurveyError as error:
        assert error.message == blocker
    else:
        raise AssertionError("a questionnaire of a draft plan was published")
    db.session.rollback()


def test_questionnaire_of_an_approved_plan_or_of_none_is_published(app, login):
    client, sid, _token, _qids = _built(app, login, publish=False)
    assert _settings(client, sid, plan_id=str(_plan_id(app, "in_progress"))).status_code == 303
    page = client.get(f"/research/surveys/{sid}").get_data(as_text=True)
    assert "计划批准后才能发布问卷" not in page
    published = client.post(f"/research/surveys/{sid}/publish", data={"closes_on": "", "cap": ""})
    assert published.status_code == 303
    form = client.get("/research/surveys/new").get_data(as_text=True)
    assert "选填。关联调研计划的问卷，须在计划批准后才能发布。" in form


# --- sharing a published questionnaire ----------------------------------------------------------


def test_published_questionnaire_has_a_copy_button_and_its_qr_code(app, login):
    client, sid, token, _qids = _built(app, login)
    page = client.get(f"/research/surveys/{sid}").get_data(as_text=True)
    assert 'data-copy="#public-link"' in page and "复制链接" in page
    assert 'src="/static/js/copy.js?v=' in page and "onclick" not in page
    assert re.search(r'<svg[^>]*class="qr-code"', page)
    assert f"/research/s/{token}" in page
    qr = client.get(f"/research/surveys/{sid}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert "attachment" in qr.headers["Content-Disposition"]
    assert f"/research/s/{token}" in qr.get_data(as_text=True)


def test_a_draft_has_no_qr_code(app, login):
    client, sid, _token, _qids = _built(app, login, publish=False)
    assert "qr-code" not in client.get(f"/research/surveys/{sid}").get_data(as_text=True)
    assert client.get(f"/research/surveys/{sid}/qr.svg").status_code == 404


# --- how often the public questionnaire may be answered -----------------------------------------


def test_one_answer_per_browser_refuses_a_second_attempt_and_stores_nothing(app, login):
    client, sid, token, qids = _built(app, login)
    assert _settings(client, sid, answer_limit="browser").status_code == 303
    answers = {f"q{qids['single']}": "0", f"q{qids['rating']}": "4"}
    visitor = _anonymous(app)
    assert "每个浏览器只能提交一次" in visitor.get(f"/research/s/{token}").get_data(as_text=True)
    first = _public_post(visitor, token, answers)
    assert first.status_code == 303
    assert "mktapp_answered=" in first.headers["Set-Cookie"]
    assert f"Path=/research/s/{token}" in first.headers["Set-Cookie"]
    again = visitor.get(f"/research/s/{token}")
    assert again.status_code == 422
    text = again.get_data(as_text=True)
    assert "此浏览器已提交过本问卷的答卷" in text and "ps-submit" not in text
    assert _public_post(visitor, token, answers).status_code == 422
    assert _stored(app)[0] == 1
    # Another browser answers; a made-up mark is not taken for an answer.
    assert _public_post(_anonymous(app), token, answers).status_code == 303
    forged = _anonymous(app)
    forged.c.set_cookie("mktapp_answered", "1", path=f"/research/s/{token}")
    assert forged.get(f"/research/s/{token}").status_code == 200
    assert _stored(app)[0] == 2
    page = client.get(f"/research/surveys/{sid}").get_data(as_text=True)
    assert "每个浏览器限答一次" in page


def test_any_number_of_answers_per_browser_by_default(app, login):
    _client, _sid, token, qids = _built(app, login)
    visitor = _anonymous(app)
    answers = {f"q{qids['single']}": "0", f"q{qids['rating']}": "4"}
    first = _public_post(visitor, token, answers)
    assert first.status_code == 303 and "mktapp_answered" not in first.headers.get("Set-Cookie", "")
    assert _public_post(visitor, token, answers).status_code == 303
    assert _stored(app)[0] == 2


def test_invitation_only_questionnaire_refuses_the_public_link(app, login):
    client, sid, token, qids = _built(app, login)
    assert _settings(client, sid, answer_limit="invitation").status_code == 303
    page = client.get(f"/research/surveys/{sid}").get_data(as_text=True)
    assert "本问卷仅限受邀客户作答" in page and "qr-code" not in page
    assert client.get(f"/research/surveys/{sid}/qr.svg").status_code == 404
    answers = {f"q{qids['single']}": "1", f"q{qids['rating']}": "5"}
    refused = _anonymous(app).get(f"/research/s/{token}")
    assert refused.status_code == 403
    assert "本问卷仅通过专属邀请链接作答" in refused.get_data(as_text=True)
    assert _public_post(_anonymous(app), token, answers).status_code == 403
    assert _stored(app)[0] == 0
    with app.app_context():
        customer = Customer(name="苏州某贸易有限公司", grade="B", province="江苏")
        db.session.add(customer)
        db.session.commit()
        cid = customer.id
    client.post(f"/research/surveys/{sid}/invitations", data={"customer": str(cid)})
    with app.app_context():
        invite = db.session.scalar(select(SurveyInvitation.token))
    invited = _anonymous(app)
    assert _public_post(invited, invite, answers, path="i").status_code == 303
    second = invited.get(f"/research/i/{invite}")
    assert second.status_code == 422 and "只能作答一次" in second.get_data(as_text=True)
    assert _stored(app)[0] == 1


def test_unknown_answer_limit_is_refused_at_the_field(app, login):
    client, sid, _token, _qids = _built(app, login)
    response = _settings(client, sid, answer_limit="twice")
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Survey, sid).answer_limit == "open"


# --- intervals on the analysis page ----------------------------------------------------------------


def _answers(app, token, qids, rows):
    for single, rating, nps in rows:
        response = _public_post(
            _anonymous(app),
            token,
            {
                f"q{qids['single']}": str(single),
                f"q{qids['rating']}": str(rating),
                f"q{qids['nps']}": str(nps),
            },
        )
        assert response.status_code == 303


def test_few_answers_say_too_few_instead_of_an_interval(app, login):
    client, sid, token, qids = _built(app, login)
    _answers(app, token, qids, [(0, 5, 10), (1, 4, 9), (1, 2, 3), (2, 4, 8)])
    text = client.get(f"/research/surveys/{sid}/analysis").get_data(as_text=True)
    assert "3.75" in text  # the mean is still shown
    # Both means, the CSAT, the NPS and the choice question's shares.
    assert text.count('<span class="ci-few">95% 置信区间：样本太少（少于 10 份）</span>') == 5
    assert not re.search(r"95% 置信区间 -?\d", text)
    assert "回答少于 10 份时不给出区间" in text


def test_ten_answers_give_intervals_that_stay_on_their_scales(app, login):
    client, sid, token, qids = _built(app, login)
    # Nine 5s and a 1: a t interval would end at 5.5; the bootstrap ends at 5.00.
    _answers(app, token, qids, [(0, 5, 10)] * 9 + [(1, 1, 0)])
    text = client.get(f"/research/surveys/{sid}/analysis").get_data(as_text=True)
    assert "95% 置信区间 3.80 – 5.00" in text
    assert 'class="ci-few"' not in text
    nps = re.search(r"95% 置信区间 ([+-]\d+) – ([+-]\d+)", text)
    assert nps and -100 <= int(nps.group(1)) < 80 < int(nps.group(2)) <= 100
    csat = re.search(r"95% 置信区间 ([\d.]+)% – ([\d.]+)%", text)
    assert csat and 0 < float(csat.group(1)) < 90 < float(csat.group(2)) <= 100
    assert '<th scope="col" class="num">95% 置信区间</th>' in text  # shares' column
    sheet = load_workbook(BytesIO(client.get(f"/research/surveys/{sid}/analysis.xlsx").data))
    rows = list(sheet.worksheets[0].iter_rows(values_only=True))
    header = rows[0]
    rating = next(r for r in rows if r[1] == "总体满意度")
    low = rating[header.index("95% 置信区间下限")]
    high = rating[header.index("95% 置信区间上限")]
    assert (round(low, 2), round(high, 2)) == (3.8, 5.0)


# --- industry news and the timeline ----------------------------------------------------------------


def test_industry_news_is_a_compact_table(login):
    text = login("market1").get("/research/news/").get_data(as_text=True)
    assert '<table class="data compact news-table" data-no-stack>' in text
    assert text.count('<tr class="impact-') >= 10
    assert "news-item" not in text and 'class="card news' not in text


def test_timeline_hides_its_table_in_a_clipping_wrapper_and_keeps_today_below_the_months(login):
    text = login("manager").get("/research/plans/timeline").get_data(as_text=True)
    assert '<div class="gantt-table">\n<table class="data">' in text
    assert 'class="data visually-hidden"' not in text
    months = re.findall(
        r'<text x="[\d.]+" y="(\d+)"[^>]*font-weight="600">\d{4}-\d{2}</text>', text
    )
    today = re.search(r'<text x="[\d.]+" y="(\d+)"[^>]*>今天</text>', text)
    assert months and today
    # A month label is 13px high, the "today" label 11px: their lines never meet.
    assert all(int(today.group(1)) - 11 > int(y) for y in months)
