"""Follow-up views (跟进记录, P4.1): the form on the customer page, the user's follow-ups
page (due, overdue, recent) and the `flask sales-reminders` command."""

from __future__ import annotations

from datetime import date

import click
from flask import abort, flash, url_for
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_login import current_user

from mktapp.core import clock
from mktapp.core.htmx import is_partial, redirect_to, render
from mktapp.core.permissions import require
from mktapp.extensions import db
from mktapp.sales import bp
from mktapp.sales import followups as svc
from mktapp.sales.routes_customers import _detail_context, _followup_form, _load


@bp.post("/customers/<int:customer_id>/followups")
@require("sales.edit")
def followup_create(customer_id: int):
    """Record a follow-up on the customer's page (the timeline and the form come back)."""
    customer = _load(customer_id)
    if not svc.may_follow_up(current_user, customer):
        abort(403)
    form = _followup_form(customer)
    if form.validate_on_submit():
        try:
            svc.add_followup(current_user, customer, form.to_input())
        except svc.FollowupError as error:
            db.session.rollback()
            if error.status == 403:
                abort(403)
            customer = _load(customer_id)
            target = getattr(form, error.field or "", None)
            if target is not None:
                target.errors = [*(target.errors or []), error.message]
            else:
                form.form_errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Follow-up recorded."), "success")
            if not is_partial():
                return redirect_to(url_for("sales.customer", customer_id=customer_id))
            customer = _load(customer_id)
            return render(
                "sales/customer_detail.html",
                block="customer_activity",
                **_detail_context(customer),
            )
    return render(
        "sales/customer_detail.html",
        block="customer_activity",
        status=422,
        **_detail_context(customer, followup_form=form),
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


@click.command("sales-reminders")
@with_appcontext
@click.option("--date", "day", default="", help="Treat this day (YYYY-MM-DD) as today.")
def sales_reminders(day: str) -> None:
    """Notify sales reps of the follow-ups due today (for a daily cron job); each once."""
    from mktapp.core.audit import acting_as

    today = date.fromisoformat(day) if day else clock.today()
    with acting_as(None, note="sales-reminders"):
        sent = svc.send_due_reminders(today)
        db.session.commit()
    click.echo(f"{today}: {sent} reminders sent")


@bp.record_once
def _register_cli(state) -> None:
    state.app.cli.add_command(sales_reminders)
