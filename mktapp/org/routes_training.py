"""Training records (P7.1): the list with filters and hours per person, the record, its form.

Certificates are attachments; they join this page once the attachment
machinery (core) is in place.
"""

from __future__ import annotations

from decimal import Decimal

from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from mktapp.core import nav
from mktapp.core.audit import history_for
from mktapp.core.htmx import redirect_to, render
from mktapp.core.permissions import get_visible_or_404, require
from mktapp.extensions import db
from mktapp.models import TrainingRecord
from mktapp.org import bp
from mktapp.org import training as svc
from mktapp.org.forms_training import RESULTS, TrainingForm

nav.add("P1", nav.NavEntry("org.training", nav._l("Training records"), icon="cap"))


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
    sort = request.args.get("sort", "date")
    sort = sort if sort in svc.SORTS else "date"
    direction = "asc" if request.args.get("dir") == "asc" else "desc"
    year = _int_arg("year")
    year = year if year and 1900 < year < 2200 else None
    filters = {
        "person": _int_arg("person"),
        "year": year,
        "q": request.args.get("q", "").strip()[:100],
        "archived": request.args.get("status") == "archived",
    }
    listing = svc.list_records(
        current_user,
        person_id=filters["person"],
        year=filters["year"],
        q=filters["q"],
        sort=sort,
        direction=direction,
        page=_int_arg("page") or 1,
        per_page=current_app.config["PAGE_SIZE"],
        archived=filters["archived"],
    )
    return render(
        "org/training.html",
        block="training_results",
        listing=listing,
        filters=filters,
        sort=sort,
        direction=direction,
        people=svc.filter_people(current_user),
        years=svc.filter_years(current_user),
        may_manage=svc.manages_training(current_user),
    )


def _form_page(form: TrainingForm, record: TrainingRecord | None, status: int = 200):
    return render(
        "org/training_form.html",
        block="training_form",
        status=status,
        form=form,
        record=record,
        results=RESULTS,
    )


@bp.route("/training/new", methods=["GET", "POST"])
@require()
def training_new():
    """Record a course: for oneself, or for anyone when managing training."""
    form = TrainingForm()
    form.trainee.choices = svc.trainee_choices(current_user)
    if request.method == "GET":
        form.trainee.data = _int_arg("person") or current_user.id
        return _form_page(form, None)
    if form.validate_on_submit():
        try:
            record = svc.create_record(current_user, form.trainee.data, form.data)
        except svc.UnknownTrainee:
            form.trainee.errors = [_("Choose a person from the list.")]
        else:
            db.session.commit()
            flash(_("Training record saved."), "success")
            return redirect_to(url_for("org.training_detail", record_id=record.id))
    return _form_page(form, None, 422)


@bp.get("/training/<int:record_id>")
@require()
def training_detail(record_id: int):
    """One training record and its history."""
    record = get_visible_or_404(TrainingRecord, record_id, current_user)
    return render(
        "org/training_detail.html",
        record=record,
        history=history_for(record, limit=50),
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
    choices = svc.trainee_choices(current_user)
    if record.owner_id not in {uid for uid, _ in choices} and record.owner is not None:
        choices.append((record.owner.id, record.owner.display_name))
    form.trainee.choices = choices
    if request.method == "GET":
        form.trainee.data = record.owner_id
        return _form_page(form, record)
    if form.validate_on_submit():
        try:
            svc.update_record(current_user, record, form.trainee.data, form.data)
        except svc.UnknownTrainee:
            form.trainee.errors = [_("Choose a person from the list.")]
        else:
            db.session.commit()
            flash(_("Training record saved."), "success")
            return redirect_to(url_for("org.training_detail", record_id=record.id))
    return _form_page(form, record, 422)


@bp.post("/training/<int:record_id>/archive")
@require()
def training_archive(record_id: int):
    """Archive a training record (it is kept, not deleted)."""
    record = get_visible_or_404(TrainingRecord, record_id, current_user)
    try:
        svc.archive_record(current_user, record)
    except svc.NotAllowed:
        abort(403)
    db.session.commit()
    flash(_("Training record archived."), "success")
    return redirect_to(url_for("org.training_detail", record_id=record.id))


@bp.post("/training/<int:record_id>/restore")
@require()
def training_restore(record_id: int):
    """Bring an archived training record back."""
    record = get_visible_or_404(TrainingRecord, record_id, current_user)
    try:
        svc.restore_record(current_user, record)
    except svc.NotAllowed:
        abort(403)
    db.session.commit()
    flash(_("Training record restored."), "success")
    return redirect_to(url_for("org.training_detail", record_id=record.id))
