"""Monitoring (P6.3): budget against actual, pace, the anomaly list and its decisions; export."""

from __future__ import annotations

import click
from flask import flash, request, url_for
from flask.cli import with_appcontext
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from mktapp.core import charts, clock, nav
from mktapp.core.actions import record_action
from mktapp.core.audit import acting_as
from mktapp.core.exports import xlsx_response
from mktapp.core.forms import put_error
from mktapp.core.htmx import redirect_to, render
from mktapp.core.i18n import money
from mktapp.core.permissions import can, get_visible_or_404, require
from mktapp.expense import bp
from mktapp.expense import monitoring as svc
from mktapp.expense.common import MONTHS, month_label
from mktapp.expense.forms_budget import DecisionForm
from mktapp.extensions import db
from mktapp.models.expense import ExpenseAnomaly

SHOWN = 12  # open anomalies listed on the monitoring page (all of them on /anomalies)


def _year_arg() -> int:
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        return clock.today().year
    return year if 2000 <= year <= 2100 else clock.today().year


def _charts(rep: svc.Report) -> dict:
    """The monthly bars and the cumulative lines, labelled in the user's language."""
    locale = str(get_locale() or "zh_Hans")

    def fmt(value):
        return charts.compact_yuan(value, locale)

    labels = [month_label(m) for m in MONTHS]
    budget = [c.budget for c in rep.month_totals]
    actual = [c.actual for c in rep.month_totals]
    committed = [c.committed for c in rep.month_totals]
    over = [charts.OVER if c.over and c.actual else None for c in rep.month_totals]
    bars = charts.bar_chart(
        labels,
        [
            charts.Series(_("Budget"), budget, charts.BUDGET),
            charts.Series(
                _("Actual"),
                actual,
                charts.ACTUAL,
                colors=over,
                stack=committed,
                stack_name=_("Committed (under review)"),
                extra={"over_name": _("Actual above budget")},
            ),
        ],
        title=_("Budget and actual by month, %(year)s", year=rep.year),
        desc=_(
            "Bars per month: budget %(budget)s in total, actual %(actual)s, committed %(committed)s."
            " The table below gives every figure.",
            budget=money(rep.total.total.budget),
            actual=money(rep.total.total.actual),
            committed=money(rep.total.total.committed),
        ),
        fmt=fmt,
        width=600,
        height=290,
    )
    cum_budget, cum_actual, run_b, run_a = [], [], 0, 0
    current_month = (
        rep.as_of.month if rep.as_of.year == rep.year else (12 if rep.as_of.year > rep.year else 0)
    )
    for i, cell in enumerate(rep.month_totals, start=1):
        run_b += cell.budget
        run_a += cell.actual
        cum_budget.append(run_b)
        cum_actual.append(run_a if i <= current_month else None)
    marker = None
    if rep.as_of.year == rep.year:
        marker = (float(rep.elapsed) * 12, _("Today"))
    lines = charts.line_chart(
        labels,
        [
            charts.Series(_("Cumulative budget"), cum_budget, charts.BUDGET, dashed=True),
            charts.Series(_("Cumulative actual"), cum_actual, charts.ACTUAL),
        ],
        title=_("Cumulative spending against budget, %(year)s", year=rep.year),
        desc=_(
            "%(spent)s%% of the year's budget spent with %(elapsed)s%% of the year elapsed.",
            spent=rep.total.spent_pct if rep.total.spent_pct is not None else 0,
            elapsed=rep.elapsed_pct,
        ),
        fmt=fmt,
        marker=marker,
        width=600,
        height=290,
    )
    pace = {
        row.code: charts.pace_bar(
            row.spent_share or 0,
            rep.elapsed,
            _(
                "%(category)s: %(spent)s%% spent, %(elapsed)s%% of the year elapsed",
                category=row.label,
                spent=row.spent_pct if row.spent_pct is not None else 0,
                elapsed=rep.elapsed_pct,
            ),
        )
        for row in rep.rows + [rep.total]
    }
    return {"bars": bars, "lines": lines, "pace": pace}


@bp.get("/monitoring")
@require("expense.monitor")
def monitoring():
    """Budget against actual by category and month, pace, chart and the year's open anomalies.

    It only reads: anomalies are found where claims change, by the daily scan, or by the
    "scan again" button (monitoring_scan)."""
    year = _year_arg()
    rep = svc.report(year)
    anomalies = svc.list_anomalies(year, "open", limit=SHOWN + 1)
    return render(
        "expense/monitoring.html",
        rep=rep,
        year=year,
        years=svc.years_available(),
        anomalies=anomalies[:SHOWN],
        more_anomalies=len(anomalies) > SHOWN,
        open_count=svc.open_count(year),
        describe=svc.describe,
        rules=_rules(),
        months=[(m, month_label(m)) for m in MONTHS],
        **_charts(rep),
    )


@bp.post("/monitoring/scan")
@require("expense.monitor")
def monitoring_scan():
    """Look for anomalies in a year now (e.g. after a budget change); each is notified once."""
    year = request.form.get("year", type=int) or clock.today().year
    if not 2000 <= year <= 2100:
        year = clock.today().year
    new = svc.scan(year)
    db.session.commit()
    if new:
        flash(
            ngettext(
                "%(num)d new anomaly found; the manager and finance have been notified.",
                "%(num)d new anomalies found; the manager and finance have been notified.",
                len(new),
            ),
            "success",
        )
    else:
        flash(_("Scanned %(year)s: no new anomaly.", year=year), "success")
    return redirect_to(url_for("expense.monitoring", year=year))


def _rules() -> list[tuple[str, str, str]]:
    threshold = money(svc.split_threshold())
    return [
        (kind, str(svc.KIND_LABELS[kind]), str(svc.RULES[kind]).replace("%(threshold)s", threshold))
        for kind in svc.KINDS
    ]


@bp.get("/monitoring.xlsx")
@require("expense.monitor")
def monitoring_xlsx():
    """The budget report (budget against actual by category and month) as a spreadsheet."""
    year = _year_arg()
    rep = svc.report(year)
    header = [
        _("Category"),
        _("Month"),
        _("Budget"),
        _("Actual"),
        _("Committed (under review)"),
        _("Remaining"),
        _("Reserved by activities"),
        _("Free"),
    ]
    detail = [
        (
            row.label,
            f"{year}-{m:02d}",
            cell.budget,
            cell.actual,
            cell.committed,
            cell.variance,
            cell.reserved,
            cell.free,
        )
        for row in rep.rows
        for m, cell in zip(MONTHS, row.months, strict=True)
    ]
    summary_header = [
        _("Category"),
        _("Budget"),
        _("Actual"),
        _("Committed (under review)"),
        _("Remaining"),
        _("Spent (%)"),
        _("Year elapsed (%)"),
    ]
    summary = [
        (
            row.label,
            row.total.budget,
            row.total.actual,
            row.total.committed,
            row.total.variance,
            float(row.spent_pct) if row.spent_pct is not None else None,
            float(rep.elapsed_pct),
        )
        for row in rep.rows + [rep.total]
    ]
    return xlsx_response(
        f"budget-vs-actual-{year}.xlsx",
        sheets=[
            (_("By category"), summary_header, summary),
            (_("By category and month"), header, detail),
        ],
    )


@bp.get("/anomalies")
@require("expense.monitor")
def anomalies():
    """Spending anomalies: open ones first, closed ones with the decision taken."""
    status = request.args.get("status", "")
    status = status if status in ("open", "closed") else ""
    year = request.args.get("year", type=int)
    return render(
        "expense/anomalies.html",
        block="anomaly_rows",
        rows=svc.list_anomalies(year, status or None),
        filter_status=status,
        year=year,
        describe=svc.describe,
        rules=_rules(),
    )


def _anomaly_page(anomaly, form, status=200):
    return render(
        "expense/anomaly_detail.html",
        block="decision_panel",
        status=status,
        anomaly=anomaly,
        form=form,
        text=svc.describe(anomaly),
        rule=dict((k, r) for k, _label, r in _rules()).get(anomaly.kind, ""),
        kind_label=svc.KIND_LABELS.label(anomaly.kind),
        claims=svc.related_claims(anomaly),
        may_decide=current_user_may_decide(),
    )


def current_user_may_decide() -> bool:

    return can(current_user, "expense.budget")


@bp.get("/anomalies/<int:anomaly_id>")
@require("expense.monitor")
def anomaly_detail(anomaly_id: int):
    """One anomaly: what was found, the rule, the claims concerned and the decision."""
    anomaly = get_visible_or_404(ExpenseAnomaly, anomaly_id, current_user)
    return _anomaly_page(anomaly, DecisionForm(formdata=None))


@bp.post("/anomalies/<int:anomaly_id>/decide")
@require("expense.budget")
def anomaly_decide(anomaly_id: int):
    """Record the decision taken about an anomaly, which closes it."""
    anomaly = get_visible_or_404(ExpenseAnomaly, anomaly_id, current_user)

    def refused(error, form):
        put_error(form, error, {None: "decision"})
        return _anomaly_page(anomaly, form, 422)

    return record_action(
        anomaly,
        lambda anomaly, form: svc.decide(current_user, anomaly, form.decision.data),
        message=_("Decision recorded; the anomaly is closed."),
        then=url_for("expense.anomaly_detail", anomaly_id=anomaly.id),
        on_error=refused,
        form=DecisionForm(),
    )


@click.command("expense-scan")
@with_appcontext
@click.option("--year", "years", type=int, multiple=True, help="Year to scan (default: this year).")
def expense_scan(years: tuple[int, ...]) -> None:
    """Look for spending anomalies (for a daily cron job); each is notified once."""

    total = 0
    with acting_as(None, note="expense-scan"):
        for year in years or (clock.today().year,):
            new = svc.scan(year)
            db.session.commit()
            total += len(new)
            click.echo(f"{year}: {len(new)} new anomalies")
    click.echo(f"done: {total} new")


@bp.record_once
def _register_cli(state) -> None:
    state.app.cli.add_command(expense_scan)


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add(
        "P6",
        nav.NavEntry(
            "expense.monitoring",
            nav._l("Monitoring"),
            permissions=("expense.monitor",),
            icon="chart",
        ),
    )
    nav.add(
        "P6",
        nav.NavEntry(
            "expense.anomalies", nav._l("Anomalies"), permissions=("expense.monitor",), icon="alert"
        ),
    )
