"""One way to run an action a user asks of a record (submit, start, archive, claim ...).

A route loads the record through the record rules, then hands over:

    return record_action(
        plan,
        lambda plan, form: svc.start(current_user, plan),
        message=_("Research plan %(number)s is now in progress."),
        then=url_for("research.plan_detail", plan_id=plan.id),
        on_error=lambda error, form: _detail(plan_id, status=422, action_error=error.message),
    )

and record_action does the rest, the same way for every chapter:
- the form (a ConfirmForm unless the action takes input) must carry a valid CSRF token:
  without one the answer is 400; a field that does not validate becomes a DomainError
  at that field, like one the service raised;
- the service call; a DomainError rolls the session back, and is answered by on_error
  (the page again, with the message at its field or above, status 422 ...), except 403
  and 404, which the app answers with its error pages (core.errors);
- on success: commit, the message as a toast, and a redirect that htmx follows as a
  full load (core.htmx.redirect_to). `message` is a text with the record's %(number)s,
  %(name)s or %(title)s, a function, or None (no toast); `then` a URL, or a function
  giving a URL or a whole answer (a fragment of the page redrawn in place). A function
  gets what the service returned (a new record: a copy, a version), or the record when
  the service returned nothing.

An action that takes input passes its form (form=PublishForm()); on_error usually puts
the error on it (core.forms.put_error) and draws the page again with status 422.

Two people, or one person twice, at once (issue 13), handled here for every action:
- the same form sent twice (a double click, a resend): its one-time token
  (core.forms.AppForm) is kept with the answer; the second sending gets the first
  answer (the record already made) instead of doing it again;
- a save over someone else's: an edit form carries the record's row_version and what
  its fields held when it was read; when the record has moved on and one of those
  fields changed, the save is refused with 409, who changed it and when, and each such
  field's saved value next to what this person typed (kept on the form). Saving again
  then overwrites on purpose. A change to a field the form does not show is no conflict;
- a write that loses a race inside the request (two payments of one claim, two reps
  taking one customer: the row's version moved between read and write) is a 409 for
  the loser, with nothing of its side effects (notices, audit) kept.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Response, abort, flash, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from mktapp.core import clock
from mktapp.core.errors import DomainError
from mktapp.core.forms import (
    ONCE_FIELD,
    ConfirmForm,
    column_shown,
    is_versioned,
    put_error,
    reading,
    shown_columns,
    version_of,
)
from mktapp.core.htmx import redirect_to, render
from mktapp.core.i18n import local_datetime
from mktapp.core.permissions import get_visible_or_404
from mktapp.extensions import db
from mktapp.models import AuditLog, FormSubmission


def checked(form: FlaskForm | None = None) -> FlaskForm:
    """The action's form, validated: 400 without a valid CSRF token, a DomainError at the
    first field that does not validate."""
    form = form if form is not None else ConfirmForm()
    if not form.validate_on_submit():
        token = getattr(form, "csrf_token", None)
        if not form.is_submitted() or (token is not None and token.errors):
            abort(400)
        name, message = first_problem(form) or (None, (form.form_errors or [""])[0])
        raise DomainError(message, name)
    return form


def first_problem(fields) -> tuple[str, str] | None:
    """The first field that did not validate and its first message, looking into lists of
    rows: ("channels-1-name", "…"), the name put_error() finds again."""
    for field in fields:
        rows = getattr(field, "entries", None)
        if rows is not None:  # a FieldList: its rows first, then its own message
            found = first_problem(rows)
            if found:
                return found
        elif hasattr(field, "form") and hasattr(field.form, "_fields"):  # a FormField
            found = first_problem(field.form)
            if found:
                return found
        for message in field.errors or ():
            if not isinstance(message, (dict, list, tuple)):  # a text, or a lazy one
                return field.name, str(message)
    return None


def _text(message: str, record: Any) -> str:
    """The toast: the text with the record's number, name or title put in."""
    values = {
        "number": getattr(record, "number", ""),
        "name": getattr(record, "name", ""),
        "title": getattr(record, "title", ""),
    }
    return str(message) % values if "%(" in str(message) else str(message)


def record_action(
    record: Any,
    do: Callable[[Any, FlaskForm], Any],
    *,
    message: str | Callable[[Any], str] | None,
    then: str | Callable[[Any], Any],
    on_error: Callable[[DomainError, FlaskForm], Any],
    form: FlaskForm | None = None,
):
    """Run `do(record, form)` as one transaction and answer the request (see the module)."""
    form = form if form is not None else ConfirmForm()
    token = None
    try:
        try:
            checked(form)
        except DomainError:  # sent twice, the first sending may have made what now clashes
            if (earlier := _answered(request.form.get(ONCE_FIELD, ""))) is not None:
                return earlier
            raise
        token = _claim(request.form.get(ONCE_FIELD, ""))
        if token is not None and not isinstance(token, str):
            return token  # sent before: the first answer
        _check_version(record, form)
        result = do(record, form)
        db.session.commit()
    except (DomainError, StaleDataError, IntegrityError) as error:
        db.session.rollback()
        if not isinstance(error, DomainError):
            # A race lost inside the request: the row moved on since it was read
            # (StaleDataError), or a twin inserted the same unique thing a moment before
            # (two tabs submitting one document for approval).
            logger.info("lost race on %s: %s", request.path, error)
            error = DomainError(LOST_RACE, status=409)
        if error.status in (403, 404):
            raise
        if error.status == 409 and getattr(form, "read_version", None) is not None:
            reading(form, record)  # an edit form: saving again overwrites on purpose
        answer = on_error(error, form)
        if error.status == 409 and getattr(answer, "status_code", None) == 422:
            answer.status_code = 409  # an on_error that says 422 for every refusal
        return answer
    outcome = record if result is None else result
    if message:
        flash(str(message(outcome)) if callable(message) else _text(message, record), "success")
    answer = then(outcome) if callable(then) else then
    if token:
        _remember(token, answer if isinstance(answer, str) else "")
    return redirect_to(answer) if isinstance(answer, str) else answer


# --- the same form sent twice ------------------------------------------------------------

ONCE_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
ONCE_KEPT = timedelta(days=2)


logger = logging.getLogger(__name__)
LOST_RACE = _l(
    "Someone else changed this at the same moment. Nothing was saved: look at it again and retry."
)


def _claim(token: str) -> str | Response | None:
    """Keep the form's one-time token in this transaction: the token (first sending), the
    first answer (a redirect: sent before), or None (a form without one). A twin sent at
    the same instant waits on the token's row and then finds it."""
    if not ONCE_TOKEN.fullmatch(token or ""):
        return None
    user_id = current_user.id if current_user.is_authenticated else None
    earlier = db.session.get(FormSubmission, token)
    if earlier is None:
        try:
            db.session.add(FormSubmission(token=token, user_id=user_id))
            db.session.flush()
            return token
        except IntegrityError:
            db.session.rollback()  # nothing else is done yet
            earlier = db.session.get(FormSubmission, token)
    if earlier is not None and (answer := _answered(token)) is not None:
        return answer
    raise DomainError(
        _("This form has already been sent. Reload the page to send it again."), status=409
    )


def _answered(token: str) -> Response | None:
    """The first answer to a form sent before (a redirect to what it made), or None."""
    if not ONCE_TOKEN.fullmatch(token or ""):
        return None
    earlier = db.session.get(FormSubmission, token)
    user_id = current_user.id if current_user.is_authenticated else None
    if earlier is None or not earlier.url or earlier.user_id != user_id:
        return None
    flash(_("This form had already been sent; it was not sent again."), "info")
    return redirect_to(earlier.url)


def _remember(token: str, url: str) -> None:
    """The first answer to a token (a URL: the record made), and old tokens let go."""
    row = db.session.get(FormSubmission, token)
    if row is not None:
        row.url = url[:500]
    db.session.execute(delete(FormSubmission).where(FormSubmission.at < clock.now() - ONCE_KEPT))
    db.session.commit()


# --- a save over someone else's ----------------------------------------------------------


def _check_version(record: Any, form: FlaskForm) -> None:
    """409 when the record moved on since the form was read and a field it shows changed."""
    read = getattr(form, "read_version", None)
    if not is_versioned(record) or read is None or read == version_of(record):
        return
    seen = dict(part.split("=", 1) for part in (form.read_seen or "").split(";") if "=" in part)
    changed = [
        name for name, digest in shown_columns(record, form).items() if seen.get(name) != digest
    ]
    if not changed:
        return  # only what this form does not show changed: the two saves merge
    last = db.session.scalar(
        select(AuditLog)
        .where(AuditLog.record_type == type(record).__name__, AuditLog.record_id == record.id)
        .order_by(AuditLog.id.desc())
        .limit(1)
    )
    who = last.actor.display_name if last is not None and last.actor else _("someone")
    when = local_datetime(last.at) if last is not None else ""
    problems = [
        (
            None,
            _(
                "%(who)s saved this record at %(when)s, after you opened it. What you typed "
                "is kept below; the marked fields now hold what they saved. Save again to "
                "replace it with yours.",
                who=who,
                when=when,
            ),
        )
    ]
    for name in changed:
        problems.append((name, _("Saved meanwhile: %(value)s", value=_shown(form[name], record))))
    raise DomainError(problems[0][1], problems=problems, status=409)


def _shown(field: Any, record: Any) -> str:
    """What a field of the record holds now, as a person reads it."""
    column = column_shown(record, field.name)
    value = getattr(record, column) if column else None
    for choice in getattr(field, "choices", None) or ():
        if isinstance(choice, tuple | list) and len(choice) >= 2 and str(choice[0]) == str(value):
            return str(choice[1])
    if value is None or value == "":
        return _("(empty)")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def refreshed(record: Any) -> Any:
    """The record read again after the action's commit (its lists changed: a question
    added, a milestone removed), for a `then` that draws it in place."""
    db.session.refresh(record)
    return record


# --- the recipes built on record_action -------------------------------------------------
#
# A step of a record's life:   act(_detail, ResearchPlan, plan_id, svc.start, message, url)
# An action with a form:       record_action(..., on_error=again(_detail, Survey, survey_id,
#                                             form_as="publish_form"), form=PublishForm())
# A record's new/edit page:    edit_page("org/group_form.html", "group_form", form, group,
#                                        lambda group, form: svc.update_group(...),
#                                        message=..., then=..., group=group)


def edit_page(
    template: str,
    block: str,
    form: FlaskForm,
    record: Any,
    do: Callable[[Any, FlaskForm], Any],
    /,
    *,
    message: str | Callable[[Any], str] | None,
    then: str | Callable[[Any], Any],
    **context: Any,
) -> Response:
    """A record's form page, one route for GET and POST: GET draws `template` with the
    form (htmx asks for its `block` alone); POST runs `do(record, form)` (record None: a
    new one) through record_action, and a refusal draws the form again (422) with the
    service's complaint at its field. `context`: what else the template shows (the record
    under its own name too)."""

    def page(form: FlaskForm, status: int = 200) -> Response:
        return render(template, block=block, status=status, form=form, **context)

    if request.method == "GET":
        return page(reading(form, record))
    return record_action(
        record,
        do,
        message=message,
        then=then,
        on_error=lambda error, form: page(
            put_error(form, error), 409 if error.status == 409 else 422
        ),
        form=form,
    )


def part_or_404(model: type, part_id: int, record_model: type, record_key: str) -> Any:
    """A part of a record (a plan's milestone, a questionnaire's question): 404 unless it
    exists and its record (`record_key`: the part's column holding the record's id) is one
    the user may see."""
    part = db.session.get(model, part_id)
    if part is None:
        abort(404)
    get_visible_or_404(record_model, getattr(part, record_key), current_user)
    return part


def act(
    page: Callable[..., Response],
    model: type,
    record_id: int,
    action: Callable[[Any, Any], Any],
    message: str,
    then: str,
) -> Response:
    """A one-click step of a record's life (submit, start, close, archive): the record
    loaded through the record rules, `action(user, record)` run by record_action; done,
    the message and `then`; refused, `page` again with why (again())."""
    record = get_visible_or_404(model, record_id, current_user)
    return record_action(
        record,
        lambda record, form: action(current_user, record),
        message=message,
        then=then,
        on_error=again(page, model, record_id),
    )


def again(
    page: Callable[..., Response],
    model: type,
    record_id: int,
    *,
    form_as: str | None = None,
    fields: dict[str | None, str | None] | None = None,
    message_as: str = "action_error",
    **context: Any,
) -> Callable[[DomainError, Any], Response]:
    """The `on_error` of an action on a record: `page(record, status=422, **context)`, the
    record read again after the rollback, with the refusal on the action's form (passed to
    the page as `form_as`, each problem at its field: put_error with `fields`) or, for an
    action without one, its message passed as `message_as`."""

    def on_error(error: DomainError, form: Any) -> Response:
        record = get_visible_or_404(model, record_id, current_user)
        if form_as:
            refusal = {form_as: put_error(form, error, fields)}
        else:
            refusal = {message_as: error.message}
        return page(record, status=422, **context, **refusal)

    return on_error
