"""Follow-up views (跟进记录, P4.1): the form on the customer page, the user's follow-ups
page (due, overdue, recent) and the `flask sales-reminders` command."""

from __future__ import annotations

from datetime import date

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user

from mktapp.core import clock
from mktapp.core.actions import record_action
from mktapp.core.commands import daily_command
from mktapp.core.forms import put_error
from mktapp.core.htmx import is_partial, render
from mktapp.core.permissions import require
from mktapp.extensions import db
from mktapp.sales import bp
from mktapp.sales import followups as svc
from mktapp.sales.routes_customers import _detail_context, _followup_form, _load


def _activity(customer_id: int, status: int = 200, **extra):
    """The customer's follow-up block (the timeline and the form), drawn afresh."""
    return render(
        "sales/customer_detail.html",
        block="customer_activity",
        status=status,
        **_detail_context(_load(customer_id), **extra),
    )


@bp.post("/customers/<int:customer_id>/followups")
@require("sales.edit")
def followup_create(customer_id: int):
    """Record a follow-up on the customer's page (the timeline and the form come back)."""
    customer = _load(customer_id)
    if not svc.may_follow_up(current_user, customer):
        abort(403)
    return record_action(
        customer,
        lambda customer, form: svc.add_followup(current_user, customer, form.to_input()),
        message=_("Follow-up recorded."),
        then=lambda _followup: (
            _activity(customer_id)
            if is_partial()
            else url_for("sales.customer", customer_id=customer_id)
        ),
        on_error=lambda error, form: _activity(
            customer_id, 422, followup_form=put_error(form, error)
        ),
        form=_followup_form(customer),
    )


@bp.get("/followups")
@require("sales.edit")
def followups():
    """My follow-ups: next steps due and overdue, and the ones I recorded lately."""
    today = clock.today()
    # Reminders for this user are sent now if the daily job has not run yet (one query
    # when there is nothing to send).
    if svc.send_due_reminders(today, user=current_user):
        db.session.commit()
    return render(
        "sales/followups.html",
        today=today,
        due=svc.due_for(current_user, today),
        recent=svc.recent_for(current_user),
    )


@daily_command("sales-reminders")
def sales_reminders(today: date) -> str:
    """Notify sales reps of the follow-ups due today (for a daily cron job); each once."""
    return f"{today}: {svc.send_due_reminders(today)} reminders sent"


@bp.record_once
def _register_cli(state) -> None:
    state.app.cli.add_command(sales_reminders)
