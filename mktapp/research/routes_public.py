"""The public questionnaire (P2.2): answered by anyone with the link, no login, on a phone.

/research/s/<token>   the published link (many answers)
/research/i/<token>   a customer's one-time invitation link (one answer)

Every refusal is a friendly page in the respondent's language (Accept-Language, or the
language switch on the page): 404 for a link that does not exist, 410 for a closed
questionnaire, 422 for answers that cannot be stored, a used one-time link or a second
answer from a browser when the questionnaire takes one per browser, 403 for the public
link of a questionnaire that only invited customers answer, 429 (with Retry-After)
when the public link has taken its answers per hour from the respondent's address
(request.remote_addr: the proxy set-up makes it the client's); every answer turned away
so is counted for the author. Nothing is stored unless every answer is acceptable.

One answer per browser: after an answer through the public link a signed cookie,
scoped to that link's path, marks the browser; the form is not shown to it again.
"""

from __future__ import annotations

from flask import abort, current_app, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from mktapp.core.forms import ConfirmForm
from mktapp.core.htmx import redirect_to, render
from mktapp.core.permissions import public
from mktapp.extensions import db
from mktapp.research import bp
from mktapp.research import surveys as svc


def _message(title: str, text: str, status: int, survey=None):
    return render(
        "research/public_message.html", status=status, title=title, text=text, survey=survey
    )


def _not_found():
    return _message(
        _("Questionnaire not found"),
        _("This link does not lead to a questionnaire. Check that it was copied in full."),
        404,
    )


ANSWERED_COOKIE = "mktapp_answered"
ANSWERED_MAX_AGE = 2 * 365 * 24 * 3600


def _marks() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="survey-answered")


def _answered_here(survey) -> bool:
    """Whether this browser holds the mark of an answer to this questionnaire."""
    value = request.cookies.get(ANSWERED_COOKIE, "")
    if not value:
        return False
    try:
        return _marks().loads(value) == survey.id
    except BadSignature:
        return False


def _mark_answered(response, survey):
    response.set_cookie(
        ANSWERED_COOKIE,
        _marks().dumps(survey.id),
        max_age=ANSWERED_MAX_AGE,
        path=url_for("research.answer", token=survey.token),
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )
    return response


def _refusal(survey, error: svc.SurveyError):
    title = _("Invitation needed") if error.status == 403 else _("Already answered")
    return _message(title, error.message, error.status, survey)


def _too_many(survey, error: svc.TooManyFromAddress):
    response = _message(_("Please try again later"), error.message, 429, survey)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def _page(survey, action: str, status=200, problems=None, values=None, error=""):
    return render(
        "research/public.html",
        status=status,
        survey=survey,
        questions=svc.numbered(survey.questions),
        problems=problems or {},
        values=values or {},
        error=error,
        action=action,
        preview=False,
    )


def _answer(survey, invitation=None):
    action = request.path
    if invitation is not None and invitation.used_at is not None:
        return _message(
            _("Already answered"),
            _("This personal link has already been used to answer. Each link takes one answer."),
            410 if invitation.expires_at is not None else 422,
            survey,
        )
    if invitation is not None and svc.link_expired(invitation):
        return _message(
            _("Link expired"),
            _(
                "This personal link has expired. Please contact us if you would still like to tell us how we did."
            ),
            410,
            survey,
        )
    if not svc.accepting(survey):
        return _message(_("Questionnaire closed"), svc.closed_reason(survey), 410, survey)
    by_link = invitation is None
    answered_before = by_link and _answered_here(survey)
    refusal = svc.link_refusal(survey, answered_before) if by_link else None
    if refusal is not None:
        return _refusal(survey, refusal)
    if request.method == "GET":
        busy = svc.address_refusal(survey, request.remote_addr) if by_link else None
        if busy is not None:  # before the questions are filled in for nothing
            return _too_many(survey, busy)
        return _page(survey, action)
    if not ConfirmForm().validate_on_submit():
        return _page(
            survey,
            action,
            422,
            values={k: request.form.getlist(k) for k in request.form},
            error=_("The page had expired. Please check your answers and send them again."),
        )
    try:
        svc.submit_response(
            survey,
            request.form,
            channel="invite" if invitation is not None else "link",
            invitation=invitation,
            locale=str(get_locale()),
            answered_before=answered_before,
            address=request.remote_addr,
        )
    except svc.AnswerProblems as failure:
        db.session.rollback()
        values = {k: request.form.getlist(k) for k in request.form}
        return _page(
            survey, action, 422, problems=failure.problems, values=values, error=failure.message
        )
    except svc.LinkUsed as failure:
        db.session.rollback()
        gone = invitation is not None and invitation.expires_at is not None
        return _message(_("Already answered"), failure.message, 410 if gone else 422, survey)
    except svc.SurveyClosed as failure:
        db.session.rollback()
        return _message(_("Questionnaire closed"), failure.message, 410, survey)
    except (svc.InvitationOnly, svc.AlreadyAnswered) as failure:
        db.session.rollback()
        return _refusal(survey, failure)
    except svc.TooManyFromAddress as failure:
        db.session.rollback()
        svc.count_address_refusal(survey)
        db.session.commit()
        # The answers stay on the page, to be sent again later.
        values = {k: request.form.getlist(k) for k in request.form}
        response = _page(survey, action, 429, values=values, error=failure.message)
        response.headers["Retry-After"] = str(failure.retry_after)
        return response
    db.session.commit()
    response = redirect_to(url_for("research.answer_thanks", token=survey.token))
    if by_link and survey.answer_limit == "browser":
        _mark_answered(response, survey)
    return response


@bp.route("/s/<token>", methods=["GET", "POST"])
@public
def answer(token: str):
    """The questionnaire behind a public link."""
    survey = svc.by_token(token)
    if survey is None or survey.is_archived:
        return _not_found()
    return _answer(survey)


@bp.route("/i/<token>", methods=["GET", "POST"])
@public
def answer_invite(token: str):
    """The questionnaire behind a customer's one-time link."""
    invitation = svc.invitation_by_token(token)
    if invitation is None:
        return _not_found()
    survey = db.session.get(svc.Survey, invitation.survey_id)
    if survey is None or survey.is_archived or survey.token is None:
        return _not_found()
    return _answer(survey, invitation)


@bp.get("/s/<token>/thanks")
@public
def answer_thanks(token: str):
    """Thanks after answering."""
    survey = svc.by_token(token)
    if survey is None:
        abort(404)
    return _message(
        _("Thank you!"),
        _("Your answers have been received. They help us serve you better."),
        200,
        survey,
    )
