"""The audit view (P7: who changed what, when): filter the change log of every record."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
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
    # Only the types of records the user may see (an administrator is offered no business).
    types = [(t, audit_display.type_title(t)) for t in audit_display.readable_types(current_user)]
    form.type.choices = [("", _("All record types"))] + sorted(types, key=lambda c: c[1])
    form.actor.choices = [
        ("", _("Everyone")),
        ("system", _("System")),
    ] + audit_display.actor_choices()
    form.action.choices = [("", _("All actions"))] + [
        (code, str(label)) for code, label in ACTION_LABELS.items()
    ]
    return form


def _valid_args(form: AuditFilterForm) -> dict:
    """The filters the form accepts, as the list's query reads them from a URL (one it
    refuses is shown with its error and left out); sort=old is the oldest first."""
    args = {"page": request.args.get("page", ""), "dir": "asc" if form.sort.data == "old" else ""}
    for name in ("type", "actor", "action", "date_from", "date_to", "q", "record_id"):
        value = form[name].data
        if value and not form[name].errors:
            args[name] = value.isoformat() if isinstance(value, date) else str(value)
    return args


@bp.get("/")
@require("audit.view")
def index():
    """The audit log: every change to the records the user may see (and his own), newest
    first, filterable."""
    form = _filter_form()
    valid = form.validate()
    query = audit_display.AuditLogQuery.from_args(_valid_args(form))
    page = audit_display.search_log(
        query, current_app.config["PAGE_SIZE"], current_app.config["TIMEZONE"], current_user
    )
    # The links keep the address's own arguments in its order, and its sort=old/new.
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
        page=page,
        query=query,
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
