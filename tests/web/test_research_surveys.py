"""Questionnaires through the browser's eyes: the builder's fragments, publishing, the
public page answered without login (and every kind of bad input), invitations, phone
answers, the analysis with its cross-tab, periods and the Excel exports."""

from __future__ import annotations

import re
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import func, select

from mktapp.extensions import db
from mktapp.models import Customer, Survey, SurveyAnswer, SurveyInvitation, SurveyResponse
from tests.conftest import Client


def _new_survey(client, title="渠道调研问卷") -> int:
    response = client.post(
        "/research/surveys/new",
        data={
            "title": title,
            "intro": "约 2 分钟",
            "kind": "general",
            "period": "",
            "plan_id": "0",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def _add(client, survey_id, kind, text, required=False, options=""):
    data = {"kind": kind, "text": text, "help": "", "options": options}
    if required:
        data["required"] = "y"
    return client.post(f"/research/surveys/{survey_id}/questions", data=data, htmx=True)


def _built(app, login, publish=True, cap="") -> tuple[Client, int, str, dict]:
    """market1's questionnaire with five questions, published; (client, id, token, qids)."""
    client = login("market1")
    sid = _new_survey(client)
    _add(client, sid, "single", "您的公司规模", True, "小\n中\n大")
    _add(client, sid, "rating", "总体满意度", True)
    _add(client, sid, "nps", "推荐可能性", False)
    _add(client, sid, "short_text", "一句话建议", False)
    _add(client, sid, "long_text", "详细意见", False)
    if publish:
        assert (
            client.post(
                f"/research/surveys/{sid}/publish", data={"closes_on": "", "cap": cap}
            ).status_code
            == 303
        )
    with app.app_context():
        survey = db.session.get(Survey, sid)
        qids = {q.kind: q.id for q in survey.questions}
        token = survey.token
    return client, sid, token, qids


def _stored(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count(SurveyResponse.id))),
            db.session.scalar(select(func.count(SurveyAnswer.id))),
        )


def _anonymous(app, lang="zh-CN") -> Client:
    client = Client(app.test_client())
    client.c.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    return client


def _public_post(client, token, data, path="s"):
    page = client.get(f"/research/{path}/{token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.c.post(f"/research/{path}/{token}", data={**data, "csrf_token": csrf})


# --- the builder ---------------------------------------------------------------------------------


def test_adding_a_question_answers_with_the_question_list_fragment(app, login):
    client = login("market1")
    sid = _new_survey(client)
    response = _add(client, sid, "single", "您从哪里知道我们", True, "展会\n朋友介绍\n网络搜索")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert text.lstrip().startswith('<section class="card" id="survey_questions"')
    assert "您从哪里知道我们" in text and "朋友介绍" in text


def test_a_choice_question_needs_two_choices(app, login):
    client = login("market1")
    sid = _new_survey(client)
    response = _add(client, sid, "single", "只有一个选项", False, "唯一")
    assert response.status_code == 422
    assert "请至少填写两个选项" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Survey, sid).questions == []


def test_questions_are_reordered_with_the_arrow_buttons(app, login):
    client, sid, _token, qids = _built(app, login, publish=False)
    response = client.post(
        f"/research/questions/{qids['rating']}/move", data={"dir": "up"}, htmx=True
    )
    assert response.status_code == 200
    with app.app_context():
        kinds = [q.kind for q in db.session.get(Survey, sid).questions]
    assert kinds[:2] == ["rating", "single"]


def test_question_is_edited_in_place(app, login):
    client, sid, _token, qids = _built(app, login, publish=False)
    editor = client.get(f"/research/questions/{qids['rating']}/edit", htmx=True)
    assert 'class="builder-edit"' in editor.get_data(as_text=True)
    saved = client.post(
        f"/research/questions/{qids['rating']}",
        data={"text": "您对我们的服务满意吗", "help": "", "options": "", "required": "y"},
        htmx=True,
    )
    assert "您对我们的服务满意吗" in saved.get_data(as_text=True)


def test_question_is_removed(app, login):
    client, sid, _token, qids = _built(app, login, publish=False)
    client.post(f"/research/questions/{qids['long_text']}/remove", htmx=True)
    with app.app_context():
        assert "long_text" not in [q.kind for q in db.session.get(Survey, sid).questions]


def test_preview_shows_the_questions_without_a_send_button(app, login):
    client, sid, _token, _qids = _built(app, login, publish=False)
    text = client.get(f"/research/surveys/{sid}/preview").get_data(as_text=True)
    assert "总体满意度" in text and "ps-submit" not in text


def test_publishing_gives_a_public_link_and_freezes_the_questions(app, login):
    client, sid, token, _qids = _built(app, login)
    page = client.get(f"/research/surveys/{sid}").get_data(as_text=True)
    assert f"/research/s/{token}" in page
    assert _add(client, sid, "rating", "晚加的题").status_code == 422


def test_publishing_with_a_past_closing_date_is_refused(app, login):
    client, sid, _token, _qids = _built(app, login, publish=False)
    response = client.post(f"/research/surveys/{sid}/publish", data={"closes_on": "2020-01-01"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(Survey, sid).status == "draft"


def test_sales_rep_cannot_build_questionnaires(app, login):
    _client, sid, _token, _qids = _built(app, login, publish=False)
    sales = login("sales1")
    assert sales.get(f"/research/surveys/{sid}").status_code == 403
    assert _add(sales, sid, "rating", "x").status_code == 403


def test_unknown_questionnaire_is_a_404(login):
    assert login("market1").get("/research/surveys/99999").status_code == 404
    assert login("market1").get("/research/questions/99999/edit").status_code == 404


# --- the public page -------------------------------------------------------------------------------


def test_public_questionnaire_opens_without_login_on_a_light_page(app, login):
    _client, _sid, token, _qids = _built(app, login)
    response = _anonymous(app).get(f"/research/s/{token}")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "总体满意度" in text and "sidebar" not in text
    assert 'name="viewport"' in text


def test_public_answer_is_stored_and_thanked(app, login):
    _client, sid, token, qids = _built(app, login)
    visitor = _anonymous(app)
    response = _public_post(
        visitor,
        token,
        {
            f"q{qids['single']}": "1",
            f"q{qids['rating']}": "4",
            f"q{qids['nps']}": "9",
            f"q{qids['short_text']}": "很好",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/research/s/{token}/thanks")
    assert "感谢您的参与" in visitor.get(f"/research/s/{token}/thanks").get_data(as_text=True)
    assert _stored(app) == (1, 4)
    with app.app_context():
        assert db.session.scalar(select(SurveyResponse.channel)) == "link"


def test_missing_required_answer_is_refused_in_chinese_and_nothing_is_stored(app, login):
    _client, _sid, token, qids = _built(app, login)
    response = _public_post(_anonymous(app), token, {f"q{qids['single']}": "0"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请回答此题" in text and "Traceback" not in text
    assert 'value="0" checked' in text  # what was answered is kept
    assert _stored(app) == (0, 0)


def test_missing_required_answer_is_refused_in_english_for_an_english_browser(app, login):
    _client, _sid, token, qids = _built(app, login)
    response = _public_post(_anonymous(app, "en-US,en;q=0.9"), token, {f"q{qids['single']}": "0"})
    assert response.status_code == 422
    assert "Please answer this question." in response.get_data(as_text=True)
    assert _stored(app) == (0, 0)


def test_language_switch_on_the_public_page(app, login):
    _client, _sid, token, _qids = _built(app, login)
    visitor = _anonymous(app)
    page = visitor.get(f"/research/s/{token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    switched = visitor.c.post(
        "/language", data={"locale": "en", "next": f"/research/s/{token}", "csrf_token": csrf}
    )
    assert switched.headers["Location"].endswith(f"/research/s/{token}")
    assert "Send my answers" in visitor.get(f"/research/s/{token}").get_data(as_text=True)


def test_rating_out_of_range_is_refused(app, login):
    _client, _sid, token, qids = _built(app, login)
    response = _public_post(
        _anonymous(app), token, {f"q{qids['single']}": "0", f"q{qids['rating']}": "9"}
    )
    assert response.status_code == 422
    assert "请选择 1 到 5 分" in response.get_data(as_text=True)
    assert _stored(app) == (0, 0)


def test_oversized_text_is_refused(app, login):
    _client, _sid, token, qids = _built(app, login)
    response = _public_post(
        _anonymous(app),
        token,
        {
            f"q{qids['single']}": "0",
            f"q{qids['rating']}": "3",
            f"q{qids['long_text']}": "长" * 6000,
        },
    )
    assert response.status_code == 422
    assert "请控制在 5000 字以内" in response.get_data(as_text=True)
    assert _stored(app) == (0, 0)


def test_unknown_token_is_a_friendly_404(app):
    response = _anonymous(app).get("/research/s/no-such-token")
    assert response.status_code == 404
    assert "未找到问卷" in response.get_data(as_text=True)
    assert _anonymous(app).get("/research/i/no-such-token").status_code == 404


def test_closed_questionnaire_answers_410_and_stores_nothing(app, login):
    client, sid, token, qids = _built(app, login)
    client.post(f"/research/surveys/{sid}/close")
    visitor = _anonymous(app)
    page = visitor.get(f"/research/s/{token}")
    assert page.status_code == 410 and "问卷已结束" in page.get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = visitor.c.post(
        f"/research/s/{token}",
        data={"csrf_token": csrf, f"q{qids['single']}": "0", f"q{qids['rating']}": "3"},
    )
    assert response.status_code == 410
    assert _stored(app) == (0, 0)


def test_response_cap_closes_the_questionnaire(app, login):
    _client, _sid, token, qids = _built(app, login, cap="1")
    answers = {f"q{qids['single']}": "0", f"q{qids['rating']}": "3"}
    assert _public_post(_anonymous(app), token, answers).status_code == 303
    assert _anonymous(app).get(f"/research/s/{token}").status_code == 410
    assert _stored(app)[0] == 1


def test_one_time_link_reused_gets_a_clear_message(app, login):
    client, sid, _token, qids = _built(app, login)
    with app.app_context():
        customer = Customer(name="杭州某科技有限公司", grade="A", province="浙江")
        db.session.add(customer)
        db.session.commit()
        cid = customer.id
    page = client.get(f"/research/surveys/{sid}/invitations?q=杭州").get_data(as_text=True)
    assert "杭州某科技有限公司" in page
    assert (
        client.post(f"/research/surveys/{sid}/invitations", data={"customer": str(cid)}).status_code
        == 303
    )
    with app.app_context():
        invite_token = db.session.scalar(select(SurveyInvitation.token))
    answers = {f"q{qids['single']}": "2", f"q{qids['rating']}": "5"}
    assert _public_post(_anonymous(app), invite_token, answers, path="i").status_code == 303
    again = _anonymous(app).get(f"/research/i/{invite_token}")
    assert again.status_code == 422
    assert "只能作答一次" in again.get_data(as_text=True)
    assert _stored(app)[0] == 1
    with app.app_context():
        response = db.session.scalar(select(SurveyResponse))
        assert (response.channel, response.customer_id) == ("invite", cid)


def test_customer_search_answers_with_the_results_fragment(app, login):
    client, sid, _token, _qids = _built(app, login)
    response = client.get(f"/research/surveys/{sid}/invitations?q=zz", htmx="customer_results")
    assert response.get_data(as_text=True).lstrip().startswith('<div id="customer_results">')


def test_staff_enter_phone_answers_marked_as_phone(app, login):
    client, sid, _token, qids = _built(app, login)
    response = client.post(
        f"/research/surveys/{sid}/responses/new",
        data={f"q{qids['single']}": "1", f"q{qids['rating']}": "2", "respondent": "张经理"},
    )
    assert response.status_code == 303
    with app.app_context():
        stored = db.session.scalar(select(SurveyResponse))
        assert (stored.channel, stored.respondent) == ("phone", "张经理")
    bad = client.post(f"/research/surveys/{sid}/responses/new", data={f"q{qids['rating']}": "2"})
    assert bad.status_code == 422
    assert _stored(app)[0] == 1


# --- analysis, periods, exports --------------------------------------------------------------------------


def _answered(app, login):
    client, sid, token, qids = _built(app, login)
    for single, rating, nps in ((0, 5, 10), (1, 4, 9), (1, 2, 3), (2, 4, 8)):
        _public_post(
            _anonymous(app),
            token,
            {
                f"q{qids['single']}": str(single),
                f"q{qids['rating']}": str(rating),
                f"q{qids['nps']}": str(nps),
                f"q{qids['short_text']}": "服务不错",
            },
        )
    return client, sid, qids


def test_analysis_shows_statistics_nps_and_charts(app, login):
    client, sid, _qids = _answered(app, login)
    text = client.get(f"/research/surveys/{sid}/analysis").get_data(as_text=True)
    assert "NPS" in text and "+25" in text  # 2 promoters, 1 detractor of 4
    assert "3.75" in text  # mean rating
    assert 'class="chart' in text and "服务不错" in text


def test_analysis_filter_answers_with_the_body_fragment(app, login):
    client, sid, _qids = _answered(app, login)
    response = client.get(f"/research/surveys/{sid}/analysis?channel=phone", htmx="analysis_body")
    text = response.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="analysis_body">')
    assert "没有符合条件的答卷" in text


def test_crosstab_fragment_with_chi_square(app, login):
    client, sid, qids = _answered(app, login)
    response = client.get(
        f"/research/surveys/{sid}/analysis?q1={qids['single']}&q2={qids['rating']}", htmx="crosstab"
    )
    text = response.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="crosstab">')
    assert "χ²" in text and "卡方检验结果不可靠" in text


def test_analysis_and_responses_export_to_excel(app, login):
    client, sid, qids = _answered(app, login)
    response = client.get(
        f"/research/surveys/{sid}/analysis.xlsx?q1={qids['single']}&q2={qids['rating']}"
    )
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.data))
    assert len(book.sheetnames) == 3
    raw = list(book.worksheets[1].iter_rows(values_only=True))
    assert len(raw) == 5 and "总体满意度" in raw[0]
    rows = client.get(f"/research/surveys/{sid}/responses.xlsx")
    assert len(list(load_workbook(BytesIO(rows.data)).active.iter_rows())) == 5


def test_satisfaction_periods_are_compared(app, login):
    client = login("market1")
    with app.app_context():
        sid = db.session.scalar(select(Survey.id).where(Survey.period == "本季度"))
    text = client.get(f"/research/surveys/{sid}/periods").get_data(as_text=True)
    assert "上季度" in text and "本季度" in text and "总体而言" in text
    copy = client.post(f"/research/surveys/{sid}/copy", data={"period": "下季度"})
    assert copy.status_code == 303
    duplicate = client.post(f"/research/surveys/{sid}/copy", data={"period": "下季度"})
    assert duplicate.status_code == 422


def test_survey_list_searches_and_pages(login):
    client = login("market1")
    text = client.get("/research/surveys/?q=满意度", htmx="survey_rows").get_data(as_text=True)
    assert "客户满意度调查" in text and "智能办公设备采购需求问卷" not in text


def test_closed_questionnaire_is_archived_and_leaves_the_list(app, login):
    client, sid, _token, _qids = _built(app, login)
    refused = client.post(f"/research/surveys/{sid}/archive")
    assert refused.status_code == 422  # open: close it first
    client.post(f"/research/surveys/{sid}/close")
    assert client.post(f"/research/surveys/{sid}/archive").status_code == 303
    assert "渠道调研问卷" not in client.get("/research/surveys/").get_data(as_text=True)


def test_questionnaire_list_exports_to_excel(login):
    response = login("market1").get("/research/surveys.xlsx?kind=satisfaction")
    rows = list(load_workbook(BytesIO(response.data)).active.iter_rows(values_only=True))
    assert len(rows) == 3 and rows[1][0] == "客户满意度调查"
