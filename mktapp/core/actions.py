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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash
from flask_wtf import FlaskForm

from mktapp.core.errors import DomainError
from mktapp.core.forms import ConfirmForm
from mktapp.core.htmx import redirect_to
from mktapp.extensions import db


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
    try:
        checked(form)
        result = do(record, form)
    except DomainError as error:
        db.session.rollback()
        if error.status in (403, 404):
            raise
        return on_error(error, form)
    db.session.commit()
    outcome = record if result is None else result
    if message:
        flash(str(message(outcome)) if callable(message) else _text(message, record), "success")
    answer = then(outcome) if callable(then) else then
    return redirect_to(answer) if isinstance(answer, str) else answer


def refreshed(record: Any) -> Any:
    """The record read again after the action's commit (its lists changed: a question
    added, a milestone removed), for a `then` that draws it in place."""
    db.session.refresh(record)
    return record
