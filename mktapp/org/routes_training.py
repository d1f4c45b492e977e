"""Training records (P7.1): the list with filters and hours per person, the record, its form.

Certificates are attachments (core.attachments) on the record's page.
"""

from __future__ import annotations

from decimal import Decimal

from flask import abort, current_app, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from mktapp.core import nav
from mktapp.core.actions import edit_page, record_action
from mktapp.core.attachments import register_attachable
from mktapp.core.htmx import render
from mktapp.core.permissions import get_visible_or_404, require
from mktapp.models import TrainingRecord
from mktapp.org import bp
from mktapp.org import training as svc
from mktapp.org.forms_training import RESULTS, TrainingFilters, TrainingForm


@bp.app_template_filter("hours")
def hours_filter(value) -> str:
    """Hours without trailing zeros: 16, 7.5."""
    if value is None:
        return ""
    return f"{Decimal(value).normalize():f}"


def _int_arg(name: str) -> int | None:
    try:
        value = int(request.args.get(name, ""))
    except ValueError:
        return None
    return value if value > 0 else None


@bp.get("/training")
@require()
def training():
    """The training records this user may see, with filters, search, sort, paging and totals."""
    person = TrainingFilters(request.args)  # a name typed without JavaScript is looked up
    query = svc.TrainingQuery.from_args(person.values(request.args))
    return render(
        "org/training.html",
        block="training_results",
        page=svc.list_records(current_user, query, current_app.config["PAGE_SIZE"]),
        query=query,
        person=person.person,
        years=svc.filter_years(current_user),
        may_manage=svc.manages_training(current_user),
    )


def _form_page(form: TrainingForm, record: TrainingRecord | None, do):
    """The record's form; saved, the record's page (edit_page)."""
    return edit_page(
        "org/training_form.html",
        "training_form",
        form,
        record,
        do,
        message=_("Training record saved."),
        then=lambda record: url_for("org.training_detail", record_id=record.id),
        record=record,
        results=RESULTS,
    )


@bp.route("/training/new", methods=["GET", "POST"])
@require()
def training_new():
    """Record a course: for oneself, or for anyone when managing training."""
    form = TrainingForm()
    if request.method == "GET":
        form.trainee.data = _int_arg("person") or current_user.id
    return _form_page(
        form,
        None,
        lambda _none, form: svc.create_record(current_user, form.trainee.data, form.data),
    )


@bp.get("/training/<int:record_id>")
@require()
def training_detail(record_id: int):
    """One training record and its history."""
    record = get_visible_or_404(TrainingRecord, record_id, current_user)
    return render(
        "org/training_detail.html",
        record=record,
        may_change=svc.may_change(current_user, record),
    )


@bp.route("/training/<int:record_id>/edit", methods=["GET", "POST"])
@require()
def training_edit(record_id: int):
    """Correct a training record."""
    record = get_visible_or_404(TrainingRecord, record_id, current_user)
    if not svc.may_change(current_user, record):
        abort(403)
    form = TrainingForm(obj=record)
    form.trainee.scope = record.owner_id  # kept on the record though no longer active
    if request.method == "GET":
        form.trainee.data = record.owner_id
    return _form_page(
        form,
        record,
        lambda record, form: svc.update_record(current_user, record, form.trainee.data, form.data),
    )


@bp.post("/training/<int:record_id>/archive")
@require()
def training_archive(record_id: int):
    """Archive a training record (it is kept, not deleted)."""
    record = get_visible_or_404(TrainingRecord, record_id, current_user)
    return _change(record, svc.archive_record, _("Training record archived."))


@bp.post("/training/<int:record_id>/restore")
@require()
def training_restore(record_id: int):
    """Bring an archived training record back."""
    record = get_visible_or_404(TrainingRecord, record_id, current_user)
    return _change(record, svc.restore_record, _("Training record restored."))


def _change(record: TrainingRecord, do, message: str):
    """Archive or restore: the record's page after; refused (NotAllowed) is a 403."""
    return record_action(
        record,
        lambda record, form: do(current_user, record),
        message=message,
        then=url_for("org.training_detail", record_id=record.id),
        on_error=lambda error, form: abort(403),
    )


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add("P1", nav.NavEntry("org.training", nav._l("Training records"), icon="cap"))
    # Certificates: whoever may change the record may attach to it while it is current.
    register_attachable(
        TrainingRecord,
        can_edit=lambda user, record: svc.may_change(user, record) and not record.is_archived,
    )
