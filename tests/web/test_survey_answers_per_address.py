"""Public answers are bounded: the public link of a questionnaire takes at most its
"answers per address per hour" from one address (20 unless the author sets another
number, 0 for none); past it the respondent gets a friendly page (429, their answers kept
on it) and the author sees how many were turned away. Thirty answers sent at the same
instant from one address with a limit of 20: exactly 20 are stored."""

from __future__ import annotations

import re
import secrets
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mktapp.extensions import db
from mktapp.models import Survey, SurveyQuestion, SurveyResponse, User, utcnow
from mktapp.research import surveys as svc
from tests.conftest import Client
from tests.web.test_research_surveys import _built

HOME = "203.0.113.7"
ELSEWHERE = "198.51.100.9"


def _settings(client, sid, **changes):
    data = {"title": "渠道调研问卷", "intro": "", "kind": "general", "period": "", "plan_id": "0"}
    data.update(changes)
    return client.post(f"/research/surveys/{sid}/edit", data=data)


def _respondent(app, address: str) -> Client:
    client = Client(app.test_client())
    client.c.environ_base.update({"REMOTE_ADDR": address, "HTTP_ACCEPT_LANGUAGE": "zh-CN"})
    return client


def _answer(client, token, qids, rating="4"):
    page = client.c.get(f"/research/s/{token}")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    csrf = match.group(1) if match else ""
    data = {f"q{qids['single']}": "1", f"q{qids['rating']}": rating, "csrf_token": csrf}
    return client.c.post(f"/research/s/{token}", data=data)


def _responses(app, sid) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(SurveyResponse).where(SurveyResponse.survey_id == sid)
        )


def test_a_new_questionnaire_takes_twenty_answers_per_address_per_hour(app, login):
    client, sid, _token, _qids = _built(app, login, publish=False)
    form = client.get(f"/research/surveys/{sid}/edit").get_data(as_text=True)
    assert "每个地址每小时答卷数" in form
    assert re.search(r'name="address_hourly_limit"[^>]*value="20"', form)
    with app.app_context():
        assert db.session.get(Survey, sid).address_hourly_limit == 20


def test_answers_past_the_limit_from_one_address_are_turned_away_kindly(app, login):
    author, sid, token, qids = _built(app, login)
    assert _settings(author, sid, address_hourly_limit="2").status_code == 303
    home = _respondent(app, HOME)
    assert _answer(home, token, qids).status_code == 303
    assert _answer(home, token, qids).status_code == 303

    refused = _answer(home, token, qids, rating="5")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "您所在网络" in html and "分钟后再试" in html
    assert 60 <= int(refused.headers["Retry-After"]) <= 3600
    assert re.search(rf'name="q{qids["rating"]}" value="5"[^>]*checked', html)  # kept
    assert _responses(app, sid) == 2
    # The form is not offered again to that address within the hour ...
    again = home.c.get(f"/research/s/{token}")
    assert again.status_code == 429 and "ps-form" not in again.get_data(as_text=True)
    # ... other addresses answer as before.
    assert _answer(_respondent(app, ELSEWHERE), token, qids).status_code == 303
    assert _responses(app, sid) == 3

    page = author.get(f"/research/surveys/{sid}").get_data(as_text=True)
    limit = page[page.index('id="address-limit"') :]
    assert "2" in limit[: limit.index("</dd>")] and "1 份答卷被拒" in limit[: limit.index("</dd>")]
    with app.test_request_context():
        survey = db.session.get(Survey, sid)
        assert survey.address_refused == 1 and survey.response_count == 3
        kept = db.session.scalars(
            select(SurveyResponse.address_key).where(SurveyResponse.survey_id == sid)
        ).all()
        # The address is kept only as a keyed hash, never as it is.
        assert sorted(kept) == sorted(
            [svc.address_key(survey, HOME)] * 2 + [svc.address_key(survey, ELSEWHERE)]
        )
        assert all(len(k) == 64 and HOME not in k for k in kept)
        # An hour after the first answer, that address may answer again.
        later = utcnow() + timedelta(hours=1, minutes=1)
        assert svc.address_refusal(survey, HOME, now=later) is None
        assert svc.address_refusal(survey, HOME) is not None


def test_zero_means_no_limit_and_the_setting_is_checked(app, login):
    author, sid, token, qids = _built(app, login)
    assert _settings(author, sid, address_hourly_limit="1").status_code == 303
    home = _respondent(app, HOME)
    assert _answer(home, token, qids).status_code == 303
    assert _answer(home, token, qids).status_code == 429
    for bad in ("-1", "10001", "abc", "99999999999999999999999"):
        response = _settings(author, sid, address_hourly_limit=bad)
        assert response.status_code == 422, bad
    assert _settings(author, sid, address_hourly_limit="0").status_code == 303
    assert _answer(home, token, qids).status_code == 303
    assert _answer(home, token, qids).status_code == 303
    # A settings form without the field (an older page) keeps the limit as it is.
    assert _settings(author, sid).status_code == 303
    with app.app_context():
        assert db.session.get(Survey, sid).address_hourly_limit == 0
    assert "不限" in author.get(f"/research/surveys/{sid}").get_data(as_text=True)


@pytest.mark.commits
def test_thirty_answers_at_once_from_one_address_store_exactly_the_limit(app):
    with app.app_context():
        author = User(username="researcher", display_name="调研员", password_hash="!")
        db.session.add(author)
        db.session.flush()
        survey = Survey(
            owner_id=author.id,
            title="展会满意度",
            status="open",
            token=secrets.token_urlsafe(24),
            published_at=utcnow(),
            address_hourly_limit=20,
        )
        db.session.add(survey)
        db.session.flush()
        question = SurveyQuestion(
            survey_id=survey.id, seq=1, kind="rating", text="总体满意度", required=True, key="k"
        )
        db.session.add(question)
        db.session.commit()
        sid, token, qid = survey.id, survey.token, question.id
        db.session.remove()

    clients = [_respondent(app, HOME) for _ in range(30)]
    tokens = []
    for client in clients:  # each respondent opens the page first
        page = client.c.get(f"/research/s/{token}").get_data(as_text=True)
        tokens.append(re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))
    barrier = threading.Barrier(len(clients))
    outcomes: list[int] = []

    def send(client, csrf):
        barrier.wait()
        try:
            response = client.c.post(
                f"/research/s/{token}", data={f"q{qid}": "4", "csrf_token": csrf}
            )
            outcomes.append(response.status_code)
        except Exception as error:  # noqa: BLE001 (reported in the assertion below)
            outcomes.append(repr(error))

    threads = [
        threading.Thread(target=send, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes, key=str) == sorted([303] * 20 + [429] * 10, key=str), outcomes
    with app.app_context():
        survey = db.session.get(Survey, sid)
        stored = db.session.scalar(
            select(func.count()).select_from(SurveyResponse).where(SurveyResponse.survey_id == sid)
        )
        assert (stored, survey.response_count, survey.address_refused) == (20, 20, 10)
        db.session.remove()
