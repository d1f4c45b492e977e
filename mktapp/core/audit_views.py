"""The audit view (P7: who changed what, when): filter the change log of every record."""

from __future__ import annotations

from flask import Blueprint, current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import DateField, HiddenField, IntegerField, SearchField, SelectField
from wtforms.validators import Length as MaxLength
from wtforms.validators import NumberRange, Optional, ValidationError

from mktapp.core import audit_display, nav
from mktapp.core.audit import ACTION_LABELS
from mktapp.core.forms import RowForm
from mktapp.core.htmx import render
from mktapp.core.permissions import require

bp = Blueprint("audit", __name__, url_prefix="/audit")


class AuditFilterForm(RowForm):
    """The filters of the audit view (a GET form: no CSRF, nothing is written)."""

    type = SelectField(_l("Record type"), validators=[Optional()], validate_choice=True)
    actor = SelectField(_l("Who"), validators=[Optional()], validate_choice=True)
    action = SelectField(_l("Action"), validators=[Optional()], validate_choice=True)
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    q = SearchField(_l("Search"), validators=[Optional(), MaxLength(max=100)])
    record_id = IntegerField(validators=[Optional(), NumberRange(min=1)])
    sort = HiddenField(default="new")

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_("The end date is before the start date."))


def _filter_form() -> AuditFilterForm:
    args = MultiDict({k: v for k, v in request.args.items(multi=True) if v != ""})
    form = AuditFilterForm(args)
    types = [(t, audit_display.type_title(t)) for t in audit_display.audited_types()]
    form.type.choices = [("", _("All record types"))] + sorted(types, key=lambda c: c[1])
    form.actor.choices = [
        ("", _("Everyone")),
        ("system", _("System")),
    ] + audit_display.actor_choices()
    form.action.choices = [("", _("All actions"))] + [
        (code, str(label)) for code, label in ACTION_LABELS.items()
    ]
    return form


@bp.get("/")
@require("audit.view")
def index():
    """The audit log: every change to every record, newest first, filterable."""
    form = _filter_form()
    valid = form.validate()
    ok = {name: not form[name].errors for name in form._fields}
    filters = audit_display.LogFilters(
        record_type=form.type.data if ok["type"] and form.type.data else "",
        record_id=form.record_id.data if ok["record_id"] else None,
        actor=form.actor.data if ok["actor"] and form.actor.data else "",
        action=form.action.data if ok["action"] and form.action.data else "",
        date_from=form.date_from.data if ok["date_from"] else None,
        date_to=form.date_to.data if ok["date_to"] else None,
        text=form.q.data if ok["q"] and form.q.data else "",
        oldest_first=form.sort.data == "old",
    )
    try:
        page = int(request.args.get("page", 1))
    except ValueError:
        page = 1
    result = audit_display.search_log(
        filters, page, current_app.config["PAGE_SIZE"], current_app.config["TIMEZONE"]
    )
    params = {k: v for k, v in request.args.items() if v != "" and k != "page"}

    def page_url(n: int, **changes) -> str:
        args = {**params, **changes}
        if n > 1:
            args["page"] = n
        return url_for("audit.index", **args)

    return render(
        "core/audit.html",
        block="audit_rows",
        status=200 if valid else 422,
        form=form,
        result=result,
        filters=filters,
        page_url=page_url,
        filtered=bool(params),
    )


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add("admin", nav.NavEntry("audit.index", _l("Audit log"), permissions=("audit.view",)))


def register(app) -> None:
    """Its blueprint, and what it adds to the registries."""
    app.register_blueprint(bp)
    setup(app)
