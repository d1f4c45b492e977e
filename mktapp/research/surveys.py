"""Questionnaires (P2.2): the builder, publishing, public answering, invitations, periods.

A questionnaire is built as a draft (questions in `seq` order; a "section" question is a
heading), published with an unguessable token (the public link, no login), and closes
by hand, at the end of its closing day or when it reaches its response cap. One that
belongs to a research plan is published only once the plan is approved. Invitations
give one customer a one-time link. The public link takes any number of answers, one per
browser (the route keeps a cookie), or none (invited customers only): answer_limit.
It also takes at most address_hourly_limit answers from one address within an hour
(0: no limit): the address is kept with each link answer as a hash keyed with the app's
secret, counted after the questionnaire's row is locked (so parallel answers cannot all
pass the count), and every answer turned away is counted for the author.
Staff enter answers taken by phone (channel "phone").

Answers are checked by check_answers() before anything is stored: every problem is
reported at once, in the respondent's language, and nothing is written.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, or_, select, update

from mktapp.core import clock, vocab
from mktapp.core.audit_display import describe
from mktapp.core.errors import DomainError
from mktapp.core.i18n import local_date
from mktapp.core.lists import Column, Filter, ListPage, ListSpec, actions_column, contains, one_of
from mktapp.core.permissions import can, visible
from mktapp.extensions import db
from mktapp.models import (
    PLAN_STATUSES,
    QUESTION_KINDS,
    RESPONSE_CHANNELS,
    SURVEY_STATUSES,
    Customer,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    utcnow,
)
from mktapp.models.research import ADDRESS_HOURLY_LIMIT, ANSWER_LIMITS, SURVEY_KINDS
from mktapp.research import public

MAX_SHORT = 200
MAX_LONG = 5000
MAX_NUMBER = 1e12
MAX_OPTIONS = 30
MAX_QUESTIONS = 200
MAX_ADDRESS_LIMIT = 10_000  # answers per address per hour an author may set
ADDRESS_WINDOW = timedelta(hours=1)

KINDS = QUESTION_KINDS
STATUSES = SURVEY_STATUSES
CHANNELS = RESPONSE_CHANNELS
LIMITS = ANSWER_LIMITS


class SurveyError(DomainError):
    """Something asked that cannot be done; str() is the message for the user."""


class SurveyClosed(SurveyError):
    """The questionnaire does not take answers (closed, past its date, or full)."""

    status = 410


class LinkUsed(SurveyError):
    """A one-time invitation link that has already been answered."""


class AlreadyAnswered(SurveyError):
    """This browser has already answered a questionnaire that takes one answer per browser."""


class InvitationOnly(SurveyError):
    """The public link of a questionnaire that only invited customers answer."""

    status = 403


class TooManyFromAddress(SurveyError):
    """The public link has taken its answers per address for this hour from this address;
    `retry_after`: seconds until the oldest of them leaves the hour."""

    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class AnswerProblems(SurveyError):
    """Answers that cannot be stored: {question id: message}."""

    problems: dict[int, str] = field(default_factory=dict)

    def __post_init__(self):
        problems = self.problems  # by question, not DomainError's (field, message) list
        super().__init__(_("Some answers need your attention. Nothing has been saved."))
        self.problems = problems


kind_label = KINDS.label
status_label = STATUSES.label
channel_label = CHANNELS.label
answer_limit_label = LIMITS.label


def may_edit(user, survey: Survey) -> bool:
    return can(user, "research.edit") and not survey.is_archived


def may_build(user, survey: Survey) -> bool:
    """Questions change only while the questionnaire is a draft (answers keep their meaning)."""
    return may_edit(user, survey) and survey.status == "draft"


# --- the survey itself ------------------------------------------------------------------


def create_survey(
    user,
    title: str,
    intro: str,
    kind: str,
    plan_id: int | None,
    period: str,
    answer_limit: str = "open",
    address_hourly_limit: int | None = None,
):
    survey = Survey(
        owner_id=user.id,
        title=title.strip()[:200],
        intro=(intro or "").strip(),
        kind=kind if kind in ("general", "satisfaction") else "general",
        plan_id=plan_id,
        period=(period or "").strip()[:40],
        status="draft",
        answer_limit=answer_limit if answer_limit in ANSWER_LIMITS else "open",
        address_hourly_limit=_address_limit(address_hourly_limit, ADDRESS_HOURLY_LIMIT),
    )
    db.session.add(survey)
    db.session.flush()
    return survey


def update_survey(
    user,
    survey: Survey,
    title: str,
    intro: str,
    kind: str,
    plan_id,
    period: str,
    answer_limit: str | None = None,
    address_hourly_limit: int | None = None,
):
    if not may_edit(user, survey):
        raise SurveyError(_("You cannot change this questionnaire."))
    if answer_limit is not None:
        if answer_limit not in ANSWER_LIMITS:
            raise SurveyError(_("Choose who may answer."), "answer_limit")
        survey.answer_limit = answer_limit
    if address_hourly_limit is not None:
        survey.address_hourly_limit = _address_limit(
            address_hourly_limit, survey.address_hourly_limit
        )
    survey.title = title.strip()[:200]
    survey.intro = (intro or "").strip()
    if survey.status == "draft":
        survey.kind = kind if kind in ("general", "satisfaction") else "general"
    survey.plan_id = plan_id
    survey.period = (period or "").strip()[:40]
    return survey


def _address_limit(value: int | None, unchanged: int) -> int:
    """The answers per address per hour asked for (None: `unchanged`), or SurveyError."""
    if value is None:
        return unchanged
    if not 0 <= value <= MAX_ADDRESS_LIMIT:
        raise SurveyError(
            _("Enter a number from 0 (no limit) to %(n)s.", n=MAX_ADDRESS_LIMIT),
            "address_hourly_limit",
        )
    return value


# --- questions ------------------------------------------------------------------------------


def _clean_options(kind: str, raw: str) -> str:
    if kind not in ("single", "multi"):
        return ""
    options = []
    for line in (raw or "").splitlines():
        text = line.strip()[:200]
        if text and text not in options:
            options.append(text)
    if len(options) < 2:
        raise SurveyError(_("Give at least two choices, one a line."), "options")
    if len(options) > MAX_OPTIONS:
        raise SurveyError(_("At most %(n)s choices.", n=MAX_OPTIONS), "options")
    return "\n".join(options)


def add_question(
    user, survey: Survey, kind: str, text: str, help_text="", required=False, options=""
):
    if not may_build(user, survey):
        raise SurveyError(_("A published questionnaire cannot be changed. Copy it instead."))
    if kind not in QUESTION_KINDS:
        raise SurveyError(_("Choose a question type."), "kind")
    text = (text or "").strip()
    if not text:
        raise SurveyError(_("Write the question."), "text")
    if len(survey.questions) >= MAX_QUESTIONS:
        raise SurveyError(_("A questionnaire holds at most %(n)s questions.", n=MAX_QUESTIONS))
    question = SurveyQuestion(
        survey=survey,
        seq=(max((q.seq for q in survey.questions), default=0) + 1),
        kind=kind,
        text=text[:500],
        help=(help_text or "").strip()[:500],
        required=bool(required) and kind != "section",
        options=_clean_options(kind, options),
        key=secrets.token_hex(8),
    )
    db.session.add(question)
    db.session.flush()
    return question


def update_question(user, question: SurveyQuestion, text: str, help_text, required, options):
    if not may_build(user, question.survey):
        raise SurveyError(_("A published questionnaire cannot be changed. Copy it instead."))
    text = (text or "").strip()
    if not text:
        raise SurveyError(_("Write the question."), "text")
    question.options = _clean_options(question.kind, options)
    question.text = text[:500]
    question.help = (help_text or "").strip()[:500]
    question.required = bool(required) and question.kind != "section"
    return question


def move_question(user, question: SurveyQuestion, direction: str) -> None:
    survey = question.survey
    if not may_build(user, survey):
        raise SurveyError(_("A published questionnaire cannot be changed. Copy it instead."))
    ordered = list(survey.questions)
    index = ordered.index(question)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for seq, q in enumerate(ordered, start=1):
        q.seq = seq
    survey.questions.sort(key=lambda q: q.seq)


def remove_question(user, question: SurveyQuestion) -> None:
    survey = question.survey
    if not may_build(user, survey):
        raise SurveyError(_("A published questionnaire cannot be changed. Copy it instead."))
    survey.questions.remove(question)
    db.session.delete(question)
    for seq, q in enumerate(survey.questions, start=1):
        q.seq = seq


def numbered(questions) -> list[tuple[int | None, SurveyQuestion]]:
    """(number shown, question): sections are not numbered."""
    out, n = [], 0
    for q in questions:
        if q.kind == "section":
            out.append((None, q))
        else:
            n += 1
            out.append((n, q))
    return out


# --- publishing and closing --------------------------------------------------------------------

# A plan in one of these states has not been approved: its questionnaires wait.
PLAN_NOT_APPROVED = frozenset({"draft", "pending", "rejected", "withdrawn"})


def end_of_day(day: date | None) -> datetime | None:
    """The closing moment of a closing day: the next local midnight, in UTC."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time(0), clock.zone()).astimezone(UTC)


def closes_on(survey: Survey) -> date | None:
    """The last local day answers are taken (what was entered as the closing date)."""
    if survey.closes_at is None:
        return None
    return clock.local_date(survey.closes_at - timedelta(microseconds=1))


def publish_blocker(survey: Survey) -> str | None:
    """Why the questionnaire cannot be published yet (its plan is not approved), or None.

    A research plan is optional; a questionnaire that belongs to one goes out only
    once the plan has been approved (P2.1: research follows an approved plan)."""
    plan = survey.plan
    if plan is None or plan.status not in PLAN_NOT_APPROVED:
        return None
    return _(
        "Its research plan %(number)s is %(status)s: the questionnaire can be published "
        "once the plan is approved.",
        number=plan.number,
        status=str(PLAN_STATUSES.get(plan.status, plan.status)),
    )


def publish(user, survey: Survey, closes_at: datetime | None, cap: int | None, now=None) -> None:
    now = now or utcnow()
    if not may_edit(user, survey) or survey.status != "draft":
        raise SurveyError(_("Only a draft questionnaire can be published."))
    blocker = publish_blocker(survey)
    if blocker:
        raise SurveyError(blocker, "plan")
    if not any(q.kind != "section" for q in survey.questions):
        raise SurveyError(_("Add at least one question before publishing."))
    if closes_at is not None and closes_at <= now:
        raise SurveyError(_("The closing time must be in the future."), "closes_at")
    if cap is not None and cap < 1:
        raise SurveyError(_("The response cap must be at least 1."), "cap")
    survey.token = secrets.token_urlsafe(24)
    survey.status = "open"
    survey.published_at = now
    survey.closes_at = closes_at
    survey.response_cap = cap


def close(user, survey: Survey) -> None:
    if not may_edit(user, survey) or survey.status != "open":
        raise SurveyError(_("Only an open questionnaire can be closed."))
    survey.status = "closed"
    survey.closed_at = utcnow()


def archive(user, survey: Survey) -> None:
    """Put away a questionnaire that is not taking answers (kept with its answers)."""
    if not may_edit(user, survey) or survey.status == "open":
        raise SurveyError(_("Close the questionnaire before archiving it."))
    survey.archived_at = utcnow()


def reopen(user, survey: Survey, closes_at: datetime | None, cap: int | None, now=None) -> None:
    now = now or utcnow()
    if not may_edit(user, survey) or survey.status != "closed":
        raise SurveyError(_("Only a closed questionnaire can be reopened."))
    if closes_at is not None and closes_at <= now:
        raise SurveyError(_("The closing time must be in the future."), "closes_at")
    if cap is not None and cap <= survey.response_count:
        raise SurveyError(_("The response cap must be above the answers already in."), "cap")
    survey.status = "open"
    survey.closes_at = closes_at
    survey.response_cap = cap
    survey.closed_at = None


def accepting(survey: Survey, now=None) -> bool:
    """Whether the questionnaire takes answers now (open, before its date, under its cap)."""
    now = now or utcnow()
    if survey.status != "open" or survey.is_archived:
        return False
    if survey.closes_at is not None and now >= survey.closes_at:
        return False
    if survey.response_cap is not None and survey.response_count >= survey.response_cap:
        return False
    return True


def closed_reason(survey: Survey, now=None) -> str:
    now = now or utcnow()
    if survey.status == "draft":
        return _("This questionnaire is not open yet.")
    if survey.response_cap is not None and survey.response_count >= survey.response_cap:
        return _("This questionnaire has received all the answers it needs. Thank you!")
    if survey.closes_at is not None and now >= survey.closes_at:
        return _(
            "This questionnaire closed on %(when)s. Thank you for your interest.",
            when=_fmt(closes_on(survey)),
        )
    return _("This questionnaire is closed. Thank you for your interest.")


def _fmt(value: date | None) -> str:

    return local_date(value)


def by_token(token: str) -> Survey | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(Survey).where(Survey.token == token))


def link_expired(invitation: SurveyInvitation, now=None) -> bool:
    """A one-time link past its end (a ticket's satisfaction link: 30 days after closing)."""
    return invitation.expires_at is not None and (now or utcnow()) > invitation.expires_at


def invitation_by_token(token: str) -> SurveyInvitation | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(SurveyInvitation).where(SurveyInvitation.token == token))


def link_refusal(survey: Survey, answered_before: bool) -> SurveyError | None:
    """Why the public link does not take this respondent's answers (its answer_limit), or
    None: only invitation links answer it, or this browser has already answered."""
    if survey.answer_limit == "invitation":
        return InvitationOnly(
            _(
                "This questionnaire is answered through personal invitation links only. "
                "Please use the link in the invitation you received."
            )
        )
    if survey.answer_limit == "browser" and answered_before:
        return AlreadyAnswered(
            _(
                "This browser has already sent answers to this questionnaire, and it takes "
                "one answer per browser. Thank you!"
            )
        )
    return None


# --- answers from one address ---------------------------------------------------------------------


def address_key(survey: Survey, address: str | None) -> str | None:
    """The address an answer came from as kept with it: a hash keyed with the app's
    secret and the questionnaire (the same address cannot be followed across them)."""
    if not address:
        return None
    secret = str(current_app.config["SECRET_KEY"]).encode()
    message = f"survey-address:{survey.id}:{address}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _from_address(survey: Survey, key: str, now: datetime) -> TooManyFromAddress | None:
    """The refusal when `key` has sent the questionnaire's answers per address within the
    last hour, else None."""
    limit = survey.address_hourly_limit
    if not limit:
        return None
    count, oldest = db.session.execute(
        select(func.count(), func.min(SurveyResponse.submitted_at)).where(
            SurveyResponse.survey_id == survey.id,
            SurveyResponse.address_key == key,
            SurveyResponse.submitted_at > now - ADDRESS_WINDOW,
        )
    ).one()
    if count < limit:
        return None
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    wait = (oldest + ADDRESS_WINDOW - now).total_seconds() if oldest is not None else 3600
    wait = max(60, min(3600, int(wait) + 1))
    return TooManyFromAddress(
        _(
            "Many answers to this questionnaire have come from your network in the last "
            "hour, more than it takes from one place. Please try again in about "
            "%(minutes)s minutes. Thank you for your patience!",
            minutes=math.ceil(wait / 60),
        ),
        retry_after=wait,
    )


def address_refusal(survey: Survey, address: str | None, now=None) -> TooManyFromAddress | None:
    """Whether the public link would turn this address away now (a hint for the page that
    shows the questions; submit_response decides, under the questionnaire's lock)."""
    key = address_key(survey, address)
    if key is None or survey.answer_limit == "invitation":
        return None
    return _from_address(survey, key, now or utcnow())


def count_address_refusal(survey: Survey) -> None:
    """Count one answer turned away by the per-address limit (shown to the author)."""
    db.session.execute(
        update(Survey)
        .where(Survey.id == survey.id)
        .values(address_refused=Survey.address_refused + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(survey, ["address_refused"])


# --- answers --------------------------------------------------------------------------------------


def check_answers(questions, form) -> tuple[list[tuple[int, float | None, str | None]], dict]:
    """Read answers from a form mapping (q<id> -> values); (rows, problems).

    rows: (question id, num, text); problems: {question id: message}. A multiple
    choice gives a row per chosen option; an empty optional answer gives none.
    """
    rows: list[tuple[int, float | None, str | None]] = []
    problems: dict[int, str] = {}
    for q in questions:
        if q.kind == "section":
            continue
        name = f"q{q.id}"
        values = [v.strip() for v in form.getlist(name)] if hasattr(form, "getlist") else []
        values = [v for v in values if v != ""]
        if not values:
            if q.required:
                problems[q.id] = _("Please answer this question.")
            continue
        if q.kind in ("single", "multi"):
            count = len(q.option_list)
            picked = []
            for v in values:
                if not v.isdigit() or not 0 <= int(v) < count:
                    problems[q.id] = _("Choose one of the options given.")
                    break
                if int(v) not in picked:
                    picked.append(int(v))
            else:
                if q.kind == "single" and len(picked) > 1:
                    problems[q.id] = _("Choose only one option.")
                else:
                    rows.extend((q.id, float(i), None) for i in picked)
        elif q.kind in ("rating", "nps", "number"):
            if len(values) > 1:
                problems[q.id] = _("Give one answer.")
                continue
            text = values[0].replace(",", "").replace("，", "")
            try:
                number = float(text)
            except ValueError:
                problems[q.id] = _("Enter a number.")
                continue
            if number != number or abs(number) > MAX_NUMBER:
                problems[q.id] = _("Enter a number.")
            elif q.kind == "rating" and (number not in (1, 2, 3, 4, 5)):
                problems[q.id] = _("Choose a rating from 1 to 5.")
            elif q.kind == "nps" and (number != int(number) or not 0 <= number <= 10):
                problems[q.id] = _("Choose a score from 0 to 10.")
            else:
                rows.append((q.id, number, None))
        else:
            text = values[0]
            limit = MAX_SHORT if q.kind == "short_text" else MAX_LONG
            if len(text) > limit:
                problems[q.id] = _(
                    "Keep it under %(n)s characters (you wrote %(m)s).", n=limit, m=len(text)
                )
            else:
                rows.append((q.id, None, text))
    return rows, problems


def submit_response(
    survey: Survey,
    form,
    channel: str = "link",
    invitation: SurveyInvitation | None = None,
    customer_id: int | None = None,
    entered_by=None,
    respondent: str = "",
    locale: str = "",
    answered_before: bool = False,
    address: str | None = None,
    now=None,
) -> SurveyResponse:
    """Store one response, or raise (SurveyClosed, LinkUsed, InvitationOnly,
    AlreadyAnswered, TooManyFromAddress, AnswerProblems) writing nothing.

    `answered_before`: the respondent's browser already answered through the public
    link (the route reads its mark); `address`: where an answer through the public link
    comes from. The response count is bumped with a guarded UPDATE, so a cap is never
    exceeded by two answers arriving together; a one-time link is spent the same way.
    That UPDATE also locks the questionnaire's row until the commit, so the answers from
    one address are counted one request at a time (then the count sees every answer
    committed before it).
    """
    now = now or utcnow()
    if channel != "phone" and not accepting(survey, now):
        raise SurveyClosed(closed_reason(survey, now))
    refusal = link_refusal(survey, answered_before) if channel == "link" else None
    if refusal is not None:
        raise refusal
    if channel == "phone" and survey.status == "draft":
        raise SurveyClosed(_("Publish the questionnaire before entering answers."))
    if invitation is not None and invitation.used_at is not None:
        raise LinkUsed(
            _("This personal link has already been used to answer. Each link takes one answer.")
        )
    if invitation is not None and link_expired(invitation, now):
        raise SurveyClosed(_("This personal link has expired."))
    rows, problems = check_answers(survey.questions, form)
    if problems:
        raise AnswerProblems(problems=problems)
    guard = update(Survey).where(Survey.id == survey.id)
    if survey.response_cap is not None and channel != "phone":
        guard = guard.where(Survey.response_count < survey.response_cap)
    result = db.session.execute(
        guard.values(response_count=Survey.response_count + 1).execution_options(
            synchronize_session=False
        )
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise SurveyClosed(closed_reason(survey, now))
    key = address_key(survey, address) if channel == "link" else None
    if key is not None:
        refusal = _from_address(survey, key, now)
        if refusal is not None:
            db.session.rollback()
            raise refusal
    if invitation is not None:
        spent = db.session.execute(
            update(SurveyInvitation)
            .where(SurveyInvitation.id == invitation.id, SurveyInvitation.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if spent.rowcount != 1:
            db.session.rollback()
            raise LinkUsed(
                _("This personal link has already been used to answer. Each link takes one answer.")
            )
        customer_id = invitation.customer_id
    response = SurveyResponse(
        survey_id=survey.id,
        submitted_at=now,
        channel=channel,
        invitation_id=invitation.id if invitation else None,
        customer_id=customer_id,
        entered_by_id=entered_by.id if entered_by is not None else None,
        respondent=(respondent or "").strip()[:100],
        locale=locale[:10],
        address_key=key,
    )
    db.session.add(response)
    db.session.flush()
    if rows:
        db.session.execute(
            insert(SurveyAnswer),
            [
                {"response_id": response.id, "question_id": q, "num": n, "text": t}
                for q, n, t in rows
            ],
        )
    if invitation is not None:
        public.invitation_answered(invitation, response)
    db.session.expire(survey, ["response_count"])
    if survey.response_cap is not None and survey.response_count >= survey.response_cap:
        survey.status = "closed"
        survey.closed_at = now
    return response


# --- invitations ------------------------------------------------------------------------------


def search_customers(user, q: str, limit: int = 20) -> list[Customer]:
    stmt = visible(select(Customer), user, Customer).where(Customer.archived_at.is_(None))
    q = (q or "").strip()[:100]
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            or_(Customer.name.ilike(like), Customer.city.ilike(like), Customer.province.ilike(like))
        )
    return list(db.session.scalars(stmt.order_by(Customer.name).limit(limit)).unique())


def invite(user, survey: Survey, customer_ids: list[int]) -> list[SurveyInvitation]:
    if not may_edit(user, survey) or survey.status == "closed" or survey.is_archived:
        raise SurveyError(_("Invitations can be made while the questionnaire is a draft or open."))
    wanted = set(customer_ids)
    if not wanted:
        raise SurveyError(_("Choose at least one customer."), "customers")
    customers = list(
        db.session.scalars(
            visible(select(Customer), user, Customer).where(Customer.id.in_(wanted))
        ).unique()
    )
    already = set(
        db.session.scalars(
            select(SurveyInvitation.customer_id).where(SurveyInvitation.survey_id == survey.id)
        )
    )
    made = []
    for customer in customers:
        if customer.id in already:
            continue
        invitation = SurveyInvitation(
            survey_id=survey.id,
            customer_id=customer.id,
            token=secrets.token_urlsafe(24),
            created_by_id=user.id,
        )
        db.session.add(invitation)
        made.append(invitation)
    db.session.flush()
    return made


def invitations_of(survey: Survey) -> list[SurveyInvitation]:
    return list(
        db.session.scalars(
            select(SurveyInvitation)
            .where(SurveyInvitation.survey_id == survey.id)
            .order_by(SurveyInvitation.id.desc())
        ).unique()
    )


# --- periods of a satisfaction survey -----------------------------------------------------------


def copy_as_period(user, survey: Survey, period: str) -> Survey:
    """A new draft of the same series with the same questions (their keys kept)."""
    if not can(user, "research.edit"):
        raise SurveyError(_("You cannot copy questionnaires."))
    period = (period or "").strip()[:40]
    if not period:
        raise SurveyError(_("Name the new period, like 2026 Q3."), "period")
    root = survey.series_root_id
    taken = db.session.scalar(
        select(func.count(Survey.id)).where(
            or_(Survey.id == root, Survey.series_id == root), Survey.period == period
        )
    )
    if taken:
        raise SurveyError(_("This series already has a period named %(p)s.", p=period), "period")
    copy = Survey(
        owner_id=user.id,
        title=survey.title,
        intro=survey.intro,
        kind=survey.kind,
        plan_id=survey.plan_id,
        series_id=root,
        period=period,
        status="draft",
    )
    db.session.add(copy)
    for q in survey.questions:
        copy.questions.append(
            SurveyQuestion(
                seq=q.seq,
                kind=q.kind,
                text=q.text,
                help=q.help,
                required=q.required,
                options=q.options,
                key=q.key,
            )
        )
    db.session.flush()
    return copy


def series_of(survey: Survey) -> list[Survey]:
    root = survey.series_root_id
    return list(
        db.session.scalars(
            select(Survey)
            .where(or_(Survey.id == root, Survey.series_id == root), Survey.archived_at.is_(None))
            .order_by(Survey.created_at, Survey.id)
        ).unique()
    )


# --- the list ------------------------------------------------------------------------------------


def _kind_name(survey: Survey) -> str:
    if survey.kind == "satisfaction":
        return _("Customer satisfaction")
    return _("General questionnaire")


SURVEYS = ListSpec(
    "survey",
    [
        Column("title", _l("Title"), lambda s: s.title),
        Column(
            "plan",
            _l("Research plan"),
            lambda s: f"{s.plan.number} {s.plan.title}" if s.plan else "",
            screen=False,
        ),
        Column("kind", _l("Type"), _kind_name),
        Column("period", _l("Period"), lambda s: s.period),
        Column(
            "questions",
            _l("Questions"),
            lambda s: sum(1 for q in s.questions if q.kind != "section"),
            cls="num",
        ),
        Column("answers", _l("Answers"), lambda s: s.response_count, cls="num"),
        Column("status", _l("Status"), lambda s: status_label(s.status)),
        Column("published", _l("Published"), lambda s: s.published_at, screen=False),
        Column("closes", _l("Closes"), closes_on, screen=False),
        actions_column(),
    ],
    filters=[
        Filter("status", one_of(*SURVEY_STATUSES)),
        Filter("kind", one_of("general", "satisfaction")),
    ],
    # The list has no sort headers: always the latest changed first.
    default_sort="updated",
    default_dir="desc",
    tie=Survey.id,
    sorts={"updated": Survey.updated_at},
)
SurveyQuery = SURVEYS.Query


def _survey_filter(user, query):
    stmt = visible(select(Survey), user, Survey).where(Survey.archived_at.is_(None))
    if query.q:
        stmt = stmt.where(contains(query.q, Survey.title, Survey.period))
    if query.status:
        stmt = stmt.where(Survey.status == query.status)
    if query.kind:
        stmt = stmt.where(Survey.kind == query.kind)
    return stmt


def export_surveys(user, query) -> list[Survey]:
    return SURVEYS.export_rows(_survey_filter(user, query), query)


def list_surveys(user, query, page_size: int) -> ListPage:
    return SURVEYS.page(_survey_filter(user, query), query, page_size, unique=True)


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    vocab.expose(app, KINDS, STATUSES, CHANNELS, LIMITS)
    describe(
        Survey,
        title=_l("Questionnaire"),
        fields={
            "title": _l("Title"),
            "status": _l("Status"),
            "period": _l("Period"),
            "intro": _l("Introduction"),
            "series_id": _l("First period of the series"),
            "closes_at": _l("Closes at"),
            "response_cap": _l("Response cap"),
            "response_count": _l("Answers"),
            "answer_limit": _l("Who may answer"),
            "address_hourly_limit": _l("Answers per address per hour"),
            "address_refused": _l("Answers refused (too many from one address)"),
        },
        values={"status": SURVEY_STATUSES, "kind": SURVEY_KINDS, "answer_limit": ANSWER_LIMITS},
    )
