"""Budgets (P6.1): the list by year, the grid form, the budget page, submit, adjust, close."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from mktapp.core import clock, nav
from mktapp.core.actions import record_action
from mktapp.core.forms import put_error
from mktapp.core.htmx import redirect_to, render
from mktapp.core.i18n import money
from mktapp.core.permissions import get_visible_or_404, require
from mktapp.expense import bp
from mktapp.expense import budget as svc
from mktapp.expense.common import MONTHS, QUARTERS, category_choices, month_label
from mktapp.expense.forms_budget import (
    AdjustForm,
    BudgetEditForm,
    BudgetForm,
    CloseForm,
    apply_spread,
    cell_name,
    parse_grid,
)
from mktapp.models.expense import Budget


@bp.app_template_filter("yuan")
def yuan_filter(value) -> str:
    """An amount in a dense grid: 1,234.50 (the column heads say ¥)."""

    return money(value, currency="")


def _grid_context(raw: dict[str, str], errors: dict[str, str], cells, spread_errors=None):
    return {
        "categories": category_choices(),
        "months": [(m, month_label(m)) for m in MONTHS],
        "raw": raw,
        "cell_errors": errors,
        "spread_errors": spread_errors or {},
        "sums": svc.totals(cells),
        "cell_name": cell_name,
    }


def _raw_from(cells) -> dict[str, str]:
    return {cell_name(c, m): (f"{v:.2f}" if v else "") for (c, m), v in cells.items()}


def _form_page(form, budget, raw, errors, cells, status=200, spread_errors=None):
    return render(
        "expense/budget_form.html",
        block="budget_form",
        status=status,
        form=form,
        budget=budget,
        **_grid_context(raw, errors, cells, spread_errors),
    )


def _handle_grid(form, budget):
    """Shared POST handling of the new and edit forms: spread, validate, save."""
    cells, errors, raw = parse_grid(request.form)
    if request.form.get("spread"):
        # The "spread evenly" helper fills a row and shows the form again; nothing is saved.
        spread_errors = apply_spread(request.form, raw)
        if spread_errors:
            return _form_page(form, budget, raw, errors, cells, 422, spread_errors)
        cells, errors, raw = parse_grid(raw)
        return _form_page(form, budget, raw, errors, cells, 422 if errors else 200)
    if request.form.get("recalc"):
        # Totals again, nothing saved (the page works without JavaScript).
        return _form_page(form, budget, raw, errors, cells, 422 if errors else 200)
    if errors:  # the grid's own, shown with the fields' own
        form.validate_on_submit()
        return _form_page(form, budget, raw, errors, cells, 422)

    def save(budget, form):
        if budget is None:
            return svc.create_budget(
                current_user, form.year.data, form.title.data, form.notes.data, cells
            )
        return svc.update_budget(current_user, budget, form.title.data, form.notes.data, cells)

    def refused(error, form):
        put_error(form, error, {None: "year"} if isinstance(error, svc.YearTaken) else None)
        return _form_page(form, budget, raw, errors, cells, 422)

    return record_action(
        budget,
        save,
        message=_("Budget saved."),
        then=lambda budget: url_for("expense.budget_detail", budget_id=budget.id),
        on_error=refused,
        form=form,
    )


@bp.get("/budgets")
@require("expense.monitor")
def budgets():
    """Every year's budget with its status and total."""
    return render("expense/budgets.html", rows=svc.list_budgets(current_user), svc=svc)


@bp.route("/budgets/new", methods=["GET", "POST"])
@require("expense.budget")
def budget_new():
    """Draw up a year's budget: the grid of categories by month."""
    form = BudgetForm()
    if request.method == "GET":
        today = clock.today()
        year = today.year + (1 if today.month >= 10 else 0)
        while svc.budget_for_year(year) is not None:
            year += 1
        form.year.data = year
        form.title.data = f"{year}年度营销预算"
        cells = svc.empty_cells()
        return _form_page(form, None, _raw_from(cells), {}, cells)
    return _handle_grid(form, None)


@bp.get("/budgets/<int:budget_id>")
@require("expense.monitor")
def budget_detail(budget_id: int):
    """A budget: its grid (by month or quarter), status, approval, adjustments and history."""
    budget = get_visible_or_404(Budget, budget_id, current_user)
    view = "quarter" if request.args.get("view") == "quarter" else "month"
    return _detail_page(budget, view)


def _detail_page(budget, view="month", adjust_form=None, close_form=None, status=200, block=None):
    cells = svc.cells_of(budget)
    return render(
        "expense/budget_detail.html",
        block=block,
        status=status,
        budget=budget,
        view=view,
        cells=cells,
        sums=svc.totals(cells),
        categories=category_choices(),
        months=[(m, month_label(m)) for m in MONTHS],
        quarters=QUARTERS,
        adjustments=svc.adjustments(budget),
        adjust_form=adjust_form or AdjustForm(formdata=None),
        close_form=close_form or CloseForm(formdata=None),
        may_edit=svc.may_edit(current_user, budget),
        may_submit=svc.may_submit(current_user, budget),
        may_adjust=svc.may_adjust(current_user, budget),
        may_close=svc.may_close(current_user, budget),
        status_label=svc.STATUS_LABELS.label(budget.status),
        status_tag=svc.STATUS_TAGS.get(budget.status, ""),
        month_label=month_label,
    )


@bp.route("/budgets/<int:budget_id>/edit", methods=["GET", "POST"])
@require("expense.budget")
def budget_edit(budget_id: int):
    """Change a draft or returned budget (an approved one is adjusted instead)."""
    budget = get_visible_or_404(Budget, budget_id, current_user)
    if budget.closed:
        flash(svc._closed_message(budget), "error")
        return redirect_to(url_for("expense.budget_detail", budget_id=budget.id))
    if budget.status not in svc.EDITABLE:
        flash(
            _("An approved or submitted budget cannot be edited; record an adjustment instead."),
            "error",
        )
        return redirect_to(url_for("expense.budget_detail", budget_id=budget.id))
    form = BudgetEditForm(obj=budget)
    if request.method == "GET":
        cells = svc.cells_of(budget)
        return _form_page(form, budget, _raw_from(cells), {}, cells)
    return _handle_grid(form, budget)


@bp.post("/budgets/<int:budget_id>/submit")
@require("expense.budget")
def budget_submit(budget_id: int):
    """Send the budget to the company leader for approval."""
    budget = get_visible_or_404(Budget, budget_id, current_user)
    if budget.owner_id != current_user.id:
        abort(403)

    def refused(error, form):
        flash(error.message, "error")
        return _detail_page(budget, status=422)

    return record_action(
        budget,
        lambda budget, form: svc.submit_budget(current_user, budget),
        message=_("Budget submitted for approval."),
        then=url_for("expense.budget_detail", budget_id=budget.id),
        on_error=refused,
    )


@bp.route("/budgets/<int:budget_id>/adjust", methods=["GET", "POST"])
@require("expense.budget")
def budget_adjust(budget_id: int):
    """Adjust one month of one category of an approved budget, with a reason."""
    budget = get_visible_or_404(Budget, budget_id, current_user)
    form = AdjustForm()
    if request.method == "GET":
        return _adjust_page(budget, form)
    if budget.closed:
        form.form_errors.append(svc._closed_message(budget))
        return _adjust_page(budget, form, 422)
    return record_action(
        budget,
        lambda budget, form: svc.adjust(
            current_user,
            budget,
            form.category.data,
            form.month.data,
            form.new_amount.data,
            form.reason.data,
        ),
        message=_("Adjustment recorded."),
        then=url_for("expense.budget_detail", budget_id=budget.id),
        on_error=lambda error, form: _adjust_page(budget, put_error(form, error), 422),
        form=form,
    )


def _adjust_page(budget, form, status=200):
    return render(
        "expense/budget_adjust.html",
        block="adjust_form",
        status=status,
        budget=budget,
        form=form,
        cells=svc.cells_of(budget),
        may_adjust=svc.may_adjust(current_user, budget),
        closed_message=svc._closed_message(budget) if budget.closed else "",
    )


@bp.post("/budgets/<int:budget_id>/close")
@require("expense.close")
def budget_close(budget_id: int):
    """Close the budget's year after confirmation."""
    budget = get_visible_or_404(Budget, budget_id, current_user)
    return record_action(
        budget,
        lambda budget, form: svc.close_budget(current_user, budget),
        message=lambda budget: _("The year %(year)s is closed.", year=budget.year),
        then=url_for("expense.budget_detail", budget_id=budget.id),
        on_error=lambda error, form: _detail_page(
            budget,
            close_form=put_error(form, error, {None: "confirm"}),
            status=422,
            block="close_panel",
        ),
        form=CloseForm(),
    )


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add(
        "P6",
        nav.NavEntry(
            "expense.budgets", nav._l("Budgets"), permissions=("expense.monitor",), icon="wallet"
        ),
    )
