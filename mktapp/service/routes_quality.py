"""After-sales quality (P5.4) and cost (P5.5): the figures by department, person, type and
month, charts, the departments and people below the standard with the improvement actions
taken on them, and the spreadsheet of it all."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from mktapp.core import charts, clock, nav, settings, vocab
from mktapp.core.actions import record_action
from mktapp.core.exports import xlsx_response
from mktapp.core.forms import AppForm, LocalDateField, put_error, sensible_date
from mktapp.core.htmx import render
from mktapp.core.i18n import money
from mktapp.core.permissions import get_visible_or_404, require
from mktapp.core.pickers import SHORT_LIST, PickerField
from mktapp.models.service_quality import (
    IMPROVEMENT_FIGURES,
    IMPROVEMENT_STATUSES,
    ServiceImprovement,
)
from mktapp.service import bp
from mktapp.service import quality as svc


def not_past(form, field) -> None:
    """A due date from today on (the service says so too)."""
    if field.data is not None and field.data < clock.today():
        raise ValidationError(_l("The due date cannot be in the past."))


class ImprovementForm(AppForm):
    """An improvement action for a department or a person below the standard."""

    subject = SelectField(
        _l("Department or person"), validators=[InputRequired()], validate_choice=False
    )
    figure = SelectField(
        _l("Figure that was low"),
        choices=IMPROVEMENT_FIGURES.choices,
        validators=[InputRequired()],
    )
    action = TextAreaField(_l("Action to take"), validators=[InputRequired(), Length(max=2000)])
    owner_id = PickerField(
        _l("Carried out by"),
        source="people",
        select_up_to=SHORT_LIST,
        validators=[InputRequired()],
    )
    due_on = LocalDateField(_l("Due"), validators=[InputRequired(), sensible_date, not_past])


class DoneForm(AppForm):
    """An improvement action carried out: what was done."""

    note = TextAreaField(_l("What was done"), validators=[InputRequired(), Length(max=2000)])


def _filters() -> tuple[svc.Period, int | None, dict[int, str]]:
    """The period and department asked for (the query string, on a GET and a POST)."""
    period = svc.period_of(request.args.get("from"), request.args.get("to"))
    names = svc.department_names()
    department_id = request.args.get("department", type=int)
    return period, department_id if department_id in names else None, names


def _args(period: svc.Period, department_id: int | None) -> dict:
    args = {"from": svc.month_key(period.first), "to": svc.month_key(period.last)}
    if department_id:
        args["department"] = department_id
    return args


def _subjects(rep: svc.Report, names: dict[int, str]) -> list[tuple[str, str]]:
    """Who an action may be about: the departments, and the people handling tickets."""
    choices = [(f"department:{key}", label) for key, label in names.items()]
    seen = set()
    for row in rep.by_person:
        if row.key is not None and row.key not in seen:
            seen.add(row.key)
            choices.append((f"user:{row.key}", row.label))
    return choices


def _pct(value) -> str:
    """A percentage to one decimal (a value kept with two shows one)."""
    if value is None:
        return "—"
    return f"{Decimal(value).quantize(svc.ONE, ROUND_HALF_UP)}%"


def _charts(rep: svc.Report) -> dict:
    """On-time rates and satisfaction per month, and cost against the budget per month."""
    labels = [row.label for row in rep.by_month]
    rates = charts.line_chart(
        labels,
        [
            charts.Series(
                _("On-time response rate"), [r.response_rate for r in rep.by_month], charts.ACTUAL
            ),
            charts.Series(
                _("On-time resolution rate"),
                [r.resolution_rate for r in rep.by_month],
                charts.ELAPSED,
            ),
            charts.Series(
                _("Standard"),
                [rep.on_time_standard] * len(labels),
                charts.BUDGET,
                dashed=True,
            ),
        ],
        title=_("On-time rates by month"),
        desc=_(
            "On-time response %(response)s and on-time resolution %(resolution)s over the "
            "period; the standard is %(standard)s%%. The table below gives every month.",
            response=_pct(rep.total.response_rate),
            resolution=_pct(rep.total.resolution_rate),
            standard=rep.on_time_standard,
        ),
        fmt=lambda v: f"{v:g}%",
        width=600,
        height=280,
    )
    satisfaction = charts.bar_chart(
        labels,
        [
            charts.Series(
                _("Mean rating"),
                [r.rating for r in rep.by_month],
                charts.ACTUAL,
                colors=[
                    charts.OVER
                    if r.rating is not None and r.rating < rep.satisfaction_standard
                    else None
                    for r in rep.by_month
                ],
                extra={"over_name": _("Below the standard")},
            )
        ],
        title=_("Satisfaction by month"),
        desc=_(
            "Mean customer rating (1 to 5) per month; %(rating)s over the period from "
            "%(rated)s ratings, standard %(standard)s.",
            rating=rep.total.rating if rep.total.rating is not None else "—",
            rated=rep.total.rated,
            standard=rep.satisfaction_standard,
        ),
        fmt=lambda v: f"{v:g}",
        width=600,
        height=280,
    )
    cost = charts.bar_chart(
        labels,
        [
            charts.Series(
                _("Customer upkeep budget"),
                [rep.budget_by_month.get(r.key, 0) for r in rep.by_month],
                charts.BUDGET,
            ),
            charts.Series(_("Service cost"), [r.cost for r in rep.by_month], charts.ACTUAL),
        ],
        title=_("Service cost against the customer upkeep budget"),
        desc=_(
            "Cost %(cost)s over the period against a budget of %(budget)s.",
            cost=money(rep.total.cost),
            budget=money(rep.budget) if rep.budget is not None else "—",
        ),
        width=600,
        height=280,
    )
    return {"rates_chart": rates, "satisfaction_chart": satisfaction, "cost_chart": cost}


def _done_form(improvement: ServiceImprovement, sent: dict) -> DoneForm:
    """The "mark done" form of an action (the one sent back, with its message)."""
    form = sent.get(improvement.id) or DoneForm(formdata=None)
    form.note.id = f"done-note-{improvement.id}"
    return form


def _page(form=None, status: int = 200, done_forms=None, block=None):
    period, department_id, names = _filters()
    rep = svc.report(current_user, period, department_id)
    may_record = svc.may_record(current_user)
    if form is None and may_record:
        subject = request.args.get("subject", "")
        figure = request.args.get("figure", "")
        form = ImprovementForm(
            formdata=None,
            data={
                "subject": subject,
                "figure": figure if figure in IMPROVEMENT_FIGURES else "response",
            },
        )
    if form is not None:
        form.subject.choices = [("", "—"), *_subjects(rep, names)]
    args = _args(period, department_id)
    return render(
        "service/quality.html",
        block=block,
        status=status,
        rep=rep,
        args=args,
        names=names,
        department_id=department_id,
        form=form,
        may_record=may_record,
        actions=svc.improvements(current_user),
        may_complete=lambda imp: svc.may_complete(current_user, imp),
        done_form=lambda imp: _done_form(imp, done_forms or {}),
        pct=_pct,
        **_charts(rep),
    )


@bp.get("/quality")
@require("service.quality")
def quality():
    """The quality figures of a period, those below the standard and the actions taken."""
    return _page()


@bp.post("/quality/improvements")
@require("service.quality")
def improvement_create():
    """Record an improvement action (the service group's leader or the manager)."""
    period, department_id, _names = _filters()

    def refused(error, form):
        return _page(put_error(form, error), status=422, block="improvement_form")

    return record_action(
        None,
        lambda _record, form: svc.record_improvement(
            current_user,
            subject=form.subject.data,
            figure=form.figure.data,
            action=form.action.data,
            owner_id=form.owner_id.data,
            due_on=form.due_on.data,
            period=period,
        ),
        message=_("Improvement action recorded."),
        then=url_for("service.quality", **_args(period, department_id)) + "#improvements",
        on_error=refused,
        form=ImprovementForm(),
    )


@bp.post("/quality/improvements/<int:improvement_id>/done")
@require("service.quality")
def improvement_done(improvement_id: int):
    """Mark an improvement action done, with what was done."""
    improvement = get_visible_or_404(ServiceImprovement, improvement_id, current_user)
    period, department_id, _names = _filters()

    def refused(error, form):
        put_error(form, error)
        return _page(status=409 if error.status == 409 else 422, done_forms={improvement.id: form})

    return record_action(
        improvement,
        lambda improvement, form: svc.complete(current_user, improvement, form.note.data),
        message=_("Improvement action marked done."),
        then=url_for("service.quality", **_args(period, department_id)) + "#improvements",
        on_error=refused,
        form=DoneForm(),
    )


def _figure_header() -> list[str]:
    return [
        _("Tickets"),
        _("Complaints"),
        _("On-time response rate (%)"),
        _("On-time resolution rate (%)"),
        _("Resolution rate (%)"),
        _("Hours to first response, mean"),
        _("Hours to first response, median"),
        _("Hours to resolve, mean"),
        _("Hours to resolve, median"),
        _("Mean rating"),
        _("CSAT (%)"),
        _("Ratings"),
        _("Cost"),
        _("Tickets with cost"),
        _("Cost per ticket"),
    ]


def _figure_cells(row: svc.Figures) -> list:
    return [
        row.tickets,
        row.complaints,
        row.response_rate,
        row.resolution_rate,
        row.first_time_rate,
        row.response_avg,
        row.response_median,
        row.resolution_avg,
        row.resolution_median,
        row.rating,
        row.csat,
        row.rated,
        row.cost,
        row.cost_tickets,
        row.cost_per_ticket,
    ]


@bp.get("/quality.xlsx")
@require("service.quality")
def quality_xlsx():
    """Every breakdown of the quality figures as a spreadsheet, a sheet each."""
    period, department_id, names = _filters()
    rep = svc.report(current_user, period, department_id)
    header = _figure_header()

    def sheet(title, first, rows):
        return (title, [first, *header], [[row.label, *_figure_cells(row)] for row in rows])

    summary = [
        (_("Period"), period.label),
        (_("Department"), names.get(department_id, _("All departments"))),
        *zip(header, _figure_cells(rep.total), strict=True),
        (_("On-time standard (%)"), rep.on_time_standard),
        (_("Satisfaction standard"), rep.satisfaction_standard),
        (_("Customer upkeep budget"), rep.budget),
        (_("Budget used (%)"), rep.budget_used),
    ]
    below = [
        (
            b.label,
            IMPROVEMENT_FIGURES.label(b.figure),
            b.value,
            b.standard,
        )
        for b in rep.below
    ]
    actions = [
        (
            f.improvement.subject_label,
            IMPROVEMENT_FIGURES.label(f.improvement.figure),
            f.improvement.value_then,
            f.improvement.action,
            f.improvement.owner.display_name if f.improvement.owner else "",
            f.improvement.due_on,
            IMPROVEMENT_STATUSES.label(f.improvement.status),
            svc.month_key(f.month),
            f.value,
            "" if f.improved is None else (_("Yes") if f.improved else _("No")),
        )
        for f in svc.improvements(current_user)
    ]
    months = [
        [row.label, *_figure_cells(row), rep.budget_by_month.get(row.key)] for row in rep.by_month
    ]
    return xlsx_response(
        f"service-quality-{svc.month_key(period.first)}-{svc.month_key(period.last)}.xlsx",
        sheets=[
            (_("Summary"), [_("Figure"), _("Value")], summary),
            sheet(_("By department"), _("Department"), rep.by_department),
            sheet(_("By person"), _("Person"), rep.by_person),
            sheet(_("By type"), _("Type"), rep.by_type),
            (
                _("By month"),
                [_("Month"), *header, _("Customer upkeep budget")],
                months,
            ),
            (
                _("Below the standard"),
                [_("Department or person"), _("Figure"), _("Value"), _("Standard")],
                below,
            ),
            (
                _("Improvement actions"),
                [
                    _("Department or person"),
                    _("Figure"),
                    _("Value then"),
                    _("Action to take"),
                    _("Carried out by"),
                    _("Due"),
                    _("Status"),
                    _("Follow-up month"),
                    _("Follow-up value"),
                    _("Improved"),
                ],
                actions,
            ),
        ],
    )


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, settings, vocabularies);
    called by the chapter's register(app)."""
    nav.add(
        "P5",
        nav.NavEntry(
            "service.quality",
            nav._l("Service quality"),
            permissions=("service.quality",),
            icon="chart",
        ),
    )
    settings.register(svc.ON_TIME_STANDARD)
    settings.register(svc.SATISFACTION_STANDARD)
    vocab.expose(app, IMPROVEMENT_FIGURES, IMPROVEMENT_STATUSES)
