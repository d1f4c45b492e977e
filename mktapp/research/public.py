"""What the research chapter offers the others: the after-sales satisfaction questionnaire
(1–5 and a comment) with a one-time link per closed ticket (P5.3–P5.4), and a hook other
chapters register to hear of an invitation answered (the service chapter puts the rating
on its ticket)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

from flask import url_for
from sqlalchemy import select

from mktapp.core import clock
from mktapp.extensions import db
from mktapp.models import Survey, SurveyAnswer, SurveyInvitation, SurveyQuestion, SurveyResponse

# The questionnaire is found by the keys of its two questions (its title may be edited).
RATING_KEY = "service-rating"
COMMENT_KEY = "service-comment"
TITLE = "售后服务满意度回访"
INTRO = "感谢您联系我们的售后服务。请为本次服务打分（1 分最低，5 分最高），您的意见将帮助我们改进。"

AnsweredHook = Callable[[SurveyInvitation, int | None, str], None]
_answered_hooks: list[AnsweredHook] = []


def on_invitation_answered(hook: AnsweredHook) -> None:
    """Call `hook(invitation, rating, comment)` when a one-time link is answered (a
    chapter's setup registers it once)."""
    if hook not in _answered_hooks:
        _answered_hooks.append(hook)


def invitation_answered(invitation: SurveyInvitation, response: SurveyResponse) -> None:
    """Tell the registered chapters (called by research.surveys.submit_response)."""
    if not _answered_hooks:
        return
    rating, comment = None, ""
    rows = db.session.execute(
        select(SurveyQuestion.key, SurveyAnswer.num, SurveyAnswer.text)
        .join(SurveyAnswer, SurveyAnswer.question_id == SurveyQuestion.id)
        .where(SurveyAnswer.response_id == response.id)
    )
    for key, num, text in rows:
        if key == RATING_KEY and num is not None:
            rating = int(num)
        elif key == COMMENT_KEY and text:
            comment = text
    for hook in _answered_hooks:
        hook(invitation, rating, comment)


def satisfaction_survey() -> Survey:
    """The after-sales satisfaction questionnaire, made and opened the first time it is needed
    (answered through one-time links only)."""
    survey = db.session.scalar(
        select(Survey)
        .join(SurveyQuestion, SurveyQuestion.survey_id == Survey.id)
        .where(SurveyQuestion.key == RATING_KEY)
        .order_by(Survey.id)
        .limit(1)
    )
    if survey is not None:
        if survey.status != "open":  # closed by someone: links sent at closing still work
            survey.status = "open"
            survey.closes_at = None
        return survey
    now = clock.now()
    survey = Survey(
        title=TITLE,
        intro=INTRO,
        kind="satisfaction",
        status="open",
        token=secrets.token_urlsafe(24),
        published_at=now,
        answer_limit="invitation",
        period="",
    )
    db.session.add(survey)
    db.session.flush()
    db.session.add_all(
        [
            SurveyQuestion(
                survey_id=survey.id,
                seq=1,
                kind="rating",
                text="您对本次售后服务的总体满意度",
                help="1 分：很不满意；5 分：非常满意",
                required=True,
                options="",
                key=RATING_KEY,
            ),
            SurveyQuestion(
                survey_id=survey.id,
                seq=2,
                kind="long_text",
                text="您的意见或建议",
                help="",
                required=False,
                options="",
                key=COMMENT_KEY,
            ),
        ]
    )
    db.session.flush()
    return survey


def satisfaction_invitation(user, customer_id: int, expires_at: datetime) -> SurveyInvitation:
    """A one-time link to the satisfaction questionnaire for this customer, taking one
    answer until `expires_at`."""
    survey = satisfaction_survey()
    invitation = SurveyInvitation(
        survey_id=survey.id,
        customer_id=customer_id,
        token=secrets.token_urlsafe(24),
        created_by_id=user.id if user is not None else None,
        expires_at=expires_at,
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation


def invitation_url(invitation: SurveyInvitation) -> str:
    """The link the customer opens (absolute, for WeChat or SMS)."""
    return url_for("research.answer_invite", token=invitation.token, _external=True)
