"""Market research services: statistics against hand-computed values and scipy, NPS and
CSAT, the cross-tab's chi-square, one-time links, closing by date and by cap, answers
checked before anything is stored."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from scipy import stats as sps
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from mktapp.extensions import db
from mktapp.models import Customer, SurveyAnswer, SurveyResponse, User, utcnow
from mktapp.research import analysis
from mktapp.research import surveys as svc


@pytest.fixture
def english(app_ctx):
    """Messages in English (the default locale is zh_Hans)."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def _survey(kinds=("rating", "nps", "single", "number", "short_text"), cap=None, closes_at=None):
    """A published questionnaire by market1 with one question of each kind given."""
    author = _user("market1")
    survey = svc.create_survey(author, "测试问卷", "", "satisfaction", None, "Q1")
    for kind in kinds:
        options = "甲\n乙\n丙" if kind in ("single", "multi") else ""
        svc.add_question(author, survey, kind, f"题目 {kind}", "", kind == "rating", options)
    svc.publish(author, survey, closes_at, cap)
    db.session.commit()
    return survey


def _q(survey, kind):
    return next(q for q in survey.questions if q.kind == kind)


def _answer(survey, channel="link", **values):
    form = MultiDict()
    for kind, value in values.items():
        q = _q(survey, kind)
        for v in value if isinstance(value, list) else [value]:
            form.add(f"q{q.id}", str(v))
    response = svc.submit_response(survey, form, channel=channel)
    db.session.commit()
    return response


def _responses() -> int:
    return db.session.scalar(select(func.count(SurveyResponse.id))) or 0


# --- statistics from counts ------------------------------------------------------------------


def test_mean_sd_median_and_confidence_interval_match_numpy_and_scipy():
    values = [1, 2, 2, 3, 4, 4, 4, 5, 5, 5, 5]
    counts = {}
    for v in values:
        counts[float(v)] = counts.get(float(v), 0) + 1
    result = analysis.describe_counts(counts)
    assert result["n"] == 11
    assert result["mean"] == pytest.approx(np.mean(values))
    assert result["sd"] == pytest.approx(np.std(values, ddof=1))
    assert result["median"] == np.median(values) == 4
    low, high = sps.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=sps.sem(values))
    assert result["ci"][0] == pytest.approx(low)
    assert result["ci"][1] == pytest.approx(high)


def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    assert analysis.describe_counts({1.0: 2, 4.0: 2})["median"] == 2.5


def test_one_answer_has_a_mean_but_no_spread():
    result = analysis.describe_counts({3.0: 1})
    assert result["mean"] == 3 and result["sd"] is None and result["ci"] is None


def test_nps_is_promoters_minus_detractors_in_percent():
    counts = {10.0: 3, 9.0: 2, 8.0: 1, 7.0: 1, 6.0: 2, 3.0: 1}  # 5 promoters, 3 detractors of 10
    nps = analysis.nps_of(counts)
    assert (nps["promoters"], nps["passives"], nps["detractors"]) == (5, 2, 3)
    assert nps["score"] == pytest.approx(20.0)


def test_csat_is_the_share_of_fours_and_fives():
    assert analysis.csat_of({5.0: 3, 4.0: 1, 2.0: 4}) == pytest.approx(50.0)
    assert analysis.csat_of({}) is None


# --- stored answers, aggregated in SQL -----------------------------------------------------------


def test_question_block_counts_and_statistics_from_stored_answers(app_ctx, demo):
    survey = _survey()
    ratings = [5, 4, 4, 3, 5, 2]
    numbers = [10, 250.5, 40, 40, 7]
    for i, r in enumerate(ratings):
        _answer(
            survey,
            rating=r,
            nps=[10, 9, 8, 6, 2, 9][i],
            single=i % 3,
            number=numbers[i] if i < len(numbers) else "",
        )
    block = analysis.question_block(_q(survey, "rating").id)
    assert block["answered"] == 6
    assert [r["count"] for r in block["rows"]] == [0, 1, 1, 2, 2]
    assert block["rows"][4]["pct"] == pytest.approx(100 * 2 / 6)
    assert block["stats"]["mean"] == pytest.approx(np.mean(ratings))
    assert block["stats"]["sd"] == pytest.approx(np.std(ratings, ddof=1))
    assert block["stats"]["median"] == np.median(ratings)
    assert block["csat"] == pytest.approx(100 * 4 / 6)
    nps = analysis.question_block(_q(survey, "nps").id)["nps"]
    assert nps["score"] == pytest.approx(100 * (3 - 2) / 6)
    number = analysis.question_block(_q(survey, "number").id)
    assert number["answered"] == 5 and number["skipped"] == 1
    assert number["stats"]["mean"] == pytest.approx(np.mean(numbers))
    assert number["stats"]["median"] == np.median(numbers)
    assert number["stats"]["sd"] == pytest.approx(np.std(numbers, ddof=1))
    assert analysis.question_block(_q(survey, "single").id)["rows"][0]["count"] == 2


def test_multiple_choice_percentages_are_of_respondents(app_ctx, demo):
    survey = _survey(kinds=("multi",))
    _answer(survey, multi=[0, 1])
    _answer(survey, multi=[0])
    block = analysis.question_block(_q(survey, "multi").id)
    assert block["answered"] == 2
    assert [r["pct"] for r in block["rows"]] == [100.0, 50.0, 0.0]
    with db.session.no_autoflush:
        assert db.session.scalar(select(func.count(SurveyAnswer.id))) == 3


def test_filters_by_channel_and_by_date(app_ctx, demo):
    survey = _survey(kinds=("rating",))
    _answer(survey, rating=5)
    _answer(survey, channel="phone", rating=1)
    phone = analysis.question_block(_q(survey, "rating").id, analysis.Filters(channel="phone"))
    assert phone["answered"] == 1 and phone["stats"]["mean"] == 1
    future = utcnow().date() + timedelta(days=3)
    later = analysis.question_block(_q(survey, "rating").id, analysis.Filters(date_from=future))
    assert later["answered"] == 0


def test_filter_by_customer_grade_counts_known_customers_only(app_ctx, demo):
    survey = _survey(kinds=("rating",))
    a = Customer(name="甲公司", grade="A", province="上海")
    c = Customer(name="丙公司", grade="C", province="浙江")
    db.session.add_all([a, c])
    db.session.flush()
    for customer, rating in ((a, 5), (c, 2)):
        (invitation,) = svc.invite(_user("market1"), survey, [customer.id])
        form = MultiDict({f"q{_q(survey, 'rating').id}": str(rating)})
        svc.submit_response(survey, form, channel="invite", invitation=invitation)
    _answer(survey, rating=3)
    db.session.commit()
    qid = _q(survey, "rating").id
    assert analysis.question_block(qid, analysis.Filters(grade="A"))["stats"]["mean"] == 5
    assert analysis.question_block(qid, analysis.Filters(region="浙江"))["stats"]["mean"] == 2
    assert analysis.question_block(qid)["answered"] == 3


def test_crosstab_chi_square_matches_scipy(app_ctx, demo):
    survey = _survey(kinds=("single", "rating"))
    pairs = [(0, 5)] * 12 + [(0, 4)] * 8 + [(1, 2)] * 9 + [(1, 4)] * 6 + [(2, 3)] * 7 + [(2, 5)] * 8
    for choice, rating in pairs:
        _answer(survey, single=choice, rating=rating)
    block = analysis.crosstab_block(_q(survey, "single").id, _q(survey, "rating").id)
    assert block["total"] == len(pairs)
    assert block["table"][0] == [0, 0, 0, 8, 12]
    observed = [[0, 0, 8, 12], [9, 0, 6, 0], [0, 7, 0, 8]]  # rating 1 (no answers) left out
    chi2, p, dof, _expected = sps.chi2_contingency(observed, correction=False)
    assert block["test"]["chi2"] == pytest.approx(chi2)
    assert block["test"]["p"] == pytest.approx(p)
    assert block["test"]["dof"] == dof


def test_crosstab_warns_when_expected_counts_are_small(app_ctx, demo, english):
    survey = _survey(kinds=("single", "rating"))
    for choice, rating in [(0, 5), (1, 4), (0, 4), (2, 5)]:
        _answer(survey, single=choice, rating=rating)
    block = analysis.crosstab_block(_q(survey, "single").id, _q(survey, "rating").id)
    assert "unreliable" in block["note"]


def test_crosstab_refuses_text_questions(app_ctx, demo):
    survey = _survey(kinds=("single", "short_text"))
    with pytest.raises(LookupError):
        analysis.crosstab_block(_q(survey, "single").id, _q(survey, "short_text").id)


# --- answering: what is refused and what is stored ---------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("rating", "6", "Choose a rating from 1 to 5."),
        ("rating", "", "Please answer this question."),
        ("nps", "11", "Choose a score from 0 to 10."),
        ("nps", "7.5", "Choose a score from 0 to 10."),
        ("number", "many", "Enter a number."),
        ("number", "nan", "Enter a number."),
        ("single", "9", "Choose one of the options given."),
        ("short_text", "字" * 201, "Keep it under 200 characters (you wrote 201)."),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_stored(
    app_ctx, demo, english, kind, value, message
):
    survey = _survey()
    form = MultiDict({f"q{_q(survey, 'rating').id}": "4"})
    form.setlist(f"q{_q(survey, kind).id}", [value])
    with pytest.raises(svc.AnswerProblems) as failure:
        svc.submit_response(survey, form)
    db.session.rollback()
    assert failure.value.problems[_q(survey, kind).id] == message
    assert _responses() == 0
    assert db.session.get(type(survey), survey.id).response_count == 0


def test_one_choice_only_for_single_choice(app_ctx, demo):
    survey = _survey(kinds=("single",))
    form = MultiDict([(f"q{_q(survey, 'single').id}", "0"), (f"q{_q(survey, 'single').id}", "1")])
    with pytest.raises(svc.AnswerProblems):
        svc.submit_response(survey, form)


def test_one_time_link_takes_one_answer(app_ctx, demo):
    survey = _survey(kinds=("rating",))
    customer = Customer(name="乙公司", grade="B", province="江苏")
    db.session.add(customer)
    db.session.flush()
    (invitation,) = svc.invite(_user("market1"), survey, [customer.id])
    db.session.commit()
    assert len(invitation.token) >= 32
    form = MultiDict({f"q{_q(survey, 'rating').id}": "4"})
    response = svc.submit_response(survey, form, channel="invite", invitation=invitation)
    db.session.commit()
    assert response.customer_id == customer.id
    with pytest.raises(svc.LinkUsed):
        svc.submit_response(survey, form, channel="invite", invitation=invitation)
    db.session.rollback()
    assert _responses() == 1


def test_inviting_a_customer_twice_makes_one_link(app_ctx, demo):
    survey = _survey(kinds=("rating",))
    customer = Customer(name="丁公司")
    db.session.add(customer)
    db.session.flush()
    assert len(svc.invite(_user("market1"), survey, [customer.id])) == 1
    assert svc.invite(_user("market1"), survey, [customer.id]) == []


def test_questionnaire_closes_at_its_response_cap(app_ctx, demo):
    survey = _survey(kinds=("rating",), cap=2)
    _answer(survey, rating=4)
    _answer(survey, rating=5)
    assert survey.status == "closed" and not svc.accepting(survey)
    with pytest.raises(svc.SurveyClosed):
        _answer(survey, rating=3)
    db.session.rollback()
    assert _responses() == 2


def test_questionnaire_closes_at_its_date(app_ctx, demo, english):
    survey = _survey(kinds=("rating",), closes_at=utcnow() + timedelta(hours=1))
    assert svc.accepting(survey)
    later = utcnow() + timedelta(hours=2)
    assert not svc.accepting(survey, now=later)
    form = MultiDict({f"q{_q(survey, 'rating').id}": "4"})
    with pytest.raises(svc.SurveyClosed) as failure:
        svc.submit_response(survey, form, now=later)
    assert "closed on" in failure.value.message


def test_publishing_gives_an_unguessable_token_and_freezes_the_questions(app_ctx, demo):
    survey = _survey(kinds=("rating",))
    other = _survey(kinds=("rating",))
    assert survey.token != other.token and len(survey.token) >= 32
    with pytest.raises(svc.SurveyError):
        svc.add_question(_user("market1"), survey, "rating", "再加一题")


def test_questions_move_up_and_down(app_ctx, demo):
    author = _user("market1")
    survey = svc.create_survey(author, "排序", "", "general", None, "")
    first = svc.add_question(author, survey, "rating", "一")
    second = svc.add_question(author, survey, "rating", "二")
    svc.move_question(author, second, "up")
    assert [q.text for q in survey.questions] == ["二", "一"]
    svc.move_question(author, first, "up")
    assert [q.text for q in survey.questions] == ["一", "二"]


def test_a_new_period_copies_the_questions_and_compares_with_the_first(app_ctx, demo):
    survey = _survey(kinds=("rating", "nps"))
    for r, n in ((3, 6), (4, 8)):
        _answer(survey, rating=r, nps=n)
    copy = svc.copy_as_period(_user("market1"), survey, "Q2")
    svc.publish(_user("market1"), copy, None, None)
    db.session.commit()
    assert [q.key for q in copy.questions] == [q.key for q in survey.questions]
    for r, n in ((5, 10), (5, 9)):
        _answer(copy, rating=r, nps=n)
    series = svc.series_of(copy)
    assert [s.id for s in series] == [survey.id, copy.id]
    rows = analysis.compare_periods(series)
    rating = next(r for r in rows if r["kind"] == "rating")
    assert [c["mean"] for c in rating["cells"]] == [3.5, 5.0]
    assert rating["change"] == pytest.approx(1.5)
    nps = next(r for r in rows if r["kind"] == "nps")
    assert [c["nps"] for c in nps["cells"]] == [-50.0, 100.0]
    with pytest.raises(svc.SurveyError):
        svc.copy_as_period(_user("market1"), survey, "Q2")
