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

from flask import Response, abort, flash, request
from flask_login import current_user
from flask_wtf import FlaskForm

from mktapp.core.errors import DomainError
from mktapp.core.forms import ConfirmForm, put_error
from mktapp.core.htmx import redirect_to, render
from mktapp.core.permissions import get_visible_or_404
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
        return page(form)
    return record_action(
        record,
        do,
        message=message,
        then=then,
        on_error=lambda error, form: page(put_error(form, error), 422),
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
