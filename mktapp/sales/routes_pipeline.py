"""Pipeline views (P4.1 steps 1–5): the board by stage, the list and its export, the
funnel and weighted pipeline, one opportunity (form, page, stage history, moves).

Also plugs the pipeline into the customer's page (action, panel, timeline source).
"""

from __future__ import annotations

from flask import abort, current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from mktapp.core import clock, nav
from mktapp.core.actions import edit_page, record_action
from mktapp.core.charts import ACTUAL, BUDGET, Series, bar_chart, funnel_chart
from mktapp.core.forms import ConfirmForm, put_error
from mktapp.core.htmx import is_partial, redirect_to, render, retarget
from mktapp.core.i18n import money
from mktapp.core.permissions import can, get_visible_or_404, require, visible
from mktapp.extensions import db
from mktapp.models import Contract
from mktapp.models.sales import OPEN_STAGES, OPPORTUNITY_STAGES, STAGE_PROBABILITY, Opportunity
from mktapp.sales import bp
from mktapp.sales import customer_page as cp
from mktapp.sales import pipeline as svc
from mktapp.sales.forms_pipeline import MoveForm, OpportunityFilters, OpportunityForm


@bp.app_context_processor
def _stages():
    return {
        "OPEN_STAGES": OPEN_STAGES,
        "OPPORTUNITY_STAGES": OPPORTUNITY_STAGES,
    }


# --- the customer's page ----------------------------------------------------------------


def _panel(customer, user) -> dict:
    return {"opportunities": svc.customer_opportunities(customer, user)}


def _timeline(customer, user, limit: int) -> list[cp.TimelineItem]:
    items = []
    for at, from_stage, to_stage, opp_id, title, amount, reason, who in svc.customer_stage_changes(
        customer, user, limit
    ):
        if not from_stage:
            head = _("Opportunity created: %(title)s", title=title)
            body = _(
                "%(stage)s · %(amount)s", stage=svc.stage_label(to_stage), amount=money(amount)
            )
        else:
            head = _(
                "Opportunity %(title)s: %(from)s → %(to)s",
                title=title,
                **{"from": svc.stage_label(from_stage), "to": svc.stage_label(to_stage)},
            )
            body = reason if to_stage == "lost" else ""
        items.append(
            cp.TimelineItem(
                at=at,
                kind="opportunity",
                title=head,
                body=body,
                url=url_for("sales.opportunity_detail", opportunity_id=opp_id),
                who=who or "",
                extra={"stage": to_stage},
            )
        )
    return items


# --- the board --------------------------------------------------------------------------


def board_ui() -> dict:
    """What every card of the board shares, worked out once per request (not 150 times)."""
    names = {code: str(label) for code, label in OPPORTUNITY_STAGES.items()}
    user = current_user._get_current_object()
    return {
        "names": names,
        "open": OPEN_STAGES,
        "index": {s: i for i, s in enumerate(OPEN_STAGES)},
        "prefix": url_for("sales.opportunity_detail", opportunity_id=0)[:-1],
        "csrf": generate_csrf(),
        "today": clock.today(),
        "may_move": lambda o: svc.may_change(user, o),
        "probability": _("Probability"),
        "close_on": _("Close %(date)s", date="{date}"),
        "no_close": _("No close date"),
        "move_label": _("Move to"),
        "just_moved": _("Just moved"),
        "lost": _("Lost…"),
        "back_to": {s: _("Move back to %(stage)s", stage=names[s]) for s in OPEN_STAGES},
        "on_to": {s: _("Move on to %(stage)s", stage=names[s]) for s in OPEN_STAGES},
    }


def _filtered(args) -> tuple[OpportunityFilters, svc.OpportunityQuery]:
    """The filters of the board or the list as asked (an owner or customer typed without
    JavaScript is resolved there) and the query they make."""
    filters = OpportunityFilters(args)
    return filters, svc.OpportunityQuery.from_args(filters.values(args))


def _board_context(
    filters: OpportunityFilters, query: svc.OpportunityQuery, moved: int | None = None, **extra
) -> dict:
    query.stage = ""  # the board's columns are the stages
    return {
        "board": svc.board(current_user, query, pinned=moved),
        "query": query,
        "filters": filters,
        "ui": board_ui(),
        "may_create": can(current_user, "sales.edit"),
        **extra,
    }


@bp.get("/pipeline")
@require("sales.view")
def pipeline():
    """The board: a column per open stage with its count and sum, the first cards by close date
    (?moved=<id>, where a move without JavaScript lands: that card first and highlighted)."""
    filters, query = _filtered(request.args)
    return render(
        "sales/pipeline.html",
        block="pipeline_board",
        push_url=url_for("sales.pipeline", **query.args()),
        **_board_context(filters, query, moved=request.args.get("moved", type=int)),
    )


@bp.get("/pipeline/<stage>/more")
@require("sales.view")
def pipeline_more(stage: str):
    """More cards of one column, after the ones shown (the column's "more" link)."""
    if stage not in OPEN_STAGES:
        abort(404)
    query = svc.OpportunityQuery.from_args(request.args)
    query.stage = ""
    if not is_partial():  # without JavaScript: the list of that stage
        return redirect_to(url_for("sales.opportunities", stage=stage, **query.args()))
    try:
        offset = max(0, int(request.args.get("offset", 0)))
    except ValueError:
        offset = 0
    skip = request.args.get("skip", type=int)  # the card pinned on top of the column
    totals = svc.stage_totals(current_user, query)
    cards = svc.column_cards(current_user, query, stage, offset, skip=skip)
    return render(
        "sales/pipeline.html",
        block="column_more",
        stage=stage,
        cards=cards,
        offset=offset + len(cards),
        skip=skip,
        remaining=max(0, totals[stage].count - (1 if skip else 0) - offset - len(cards)),
        query=query,
        ui=board_ui(),
    )


@bp.get("/pipeline/summary")
@require("sales.view")
def pipeline_summary():
    """The funnel (count and amount per stage) and the weighted pipeline by stage and month."""
    filters, query = _filtered(request.args)
    totals = svc.stage_totals(current_user, query)
    months = svc.by_close_month(current_user, query)
    reached = svc.funnel(current_user, query)
    funnel = funnel_chart(
        [(svc.stage_label(s), reached[s][0], money(reached[s][1])) for s in (*OPEN_STAGES, "won")],
        title=_("Sales funnel"),
        desc=_(
            "How many opportunities reached each stage, with their amount, and how many were won."
        ),
    )
    open_cols = [totals[s] for s in OPEN_STAGES]
    by_stage = bar_chart(
        [c.label for c in open_cols],
        [
            Series(_("Amount"), [c.amount for c in open_cols], BUDGET),
            Series(_("Weighted amount"), [c.weighted for c in open_cols], ACTUAL),
        ],
        title=_("Weighted pipeline by stage"),
        desc=_("Amount and amount × probability of the open opportunities in each stage."),
    )
    month_labels = [k if k else _("No date") for k in months]
    by_month = bar_chart(
        month_labels,
        [
            Series(_("Amount"), [v[0] for v in months.values()], BUDGET),
            Series(_("Weighted amount"), [v[1] for v in months.values()], ACTUAL),
        ],
        title=_("Weighted pipeline by expected close month"),
        desc=_(
            "Amount and amount × probability of the open opportunities by the month they should close."
        ),
    )
    return render(
        "sales/pipeline_summary.html",
        query=query,
        board=svc.Board(open_cols, totals["won"], totals["lost"]),  # the totals, no cards
        months=months,
        funnel=funnel,
        reached=reached,
        by_stage=by_stage,
        by_month=by_month,
        filters=filters,
    )


# --- the list -----------------------------------------------------------------------------


@bp.get("/opportunities")
@require("sales.view")
def opportunities():
    """Every opportunity this user may see: search, filters, sort, paging, totals."""
    filters, query = _filtered(request.args)
    page = svc.list_opportunities(current_user, query, current_app.config["PAGE_SIZE"])
    return render(
        "sales/opportunities.html",
        block="opportunity_rows",
        page=page,
        query=query,
        filters=filters,
        may_create=can(current_user, "sales.edit"),
        today=clock.today(),
        push_url=url_for("sales.opportunities", **query.args()),
    )


@bp.get("/opportunities.xlsx")
@require("sales.view")
def opportunities_xlsx():
    """The filtered list (all pages) as an Excel workbook."""
    query = svc.OpportunityQuery.from_args(request.args)
    return svc.OPPORTUNITIES.xlsx(svc.export_rows(current_user, query), _("Opportunities"))


# --- the form ---------------------------------------------------------------------------------


def _edit(form: OpportunityForm, opportunity: Opportunity | None):
    """The opportunity form: drawn, or saved (its page after)."""
    return edit_page(
        "sales/opportunity_form.html",
        "opportunity_form",
        form,
        opportunity,
        lambda opportunity, form: (
            svc.create_opportunity(current_user, form.to_input())
            if opportunity is None
            else svc.update_opportunity(current_user, opportunity, form.to_input())
        ),
        message=lambda opportunity: _("Opportunity “%(title)s” saved.", title=opportunity.title),
        then=lambda opportunity: url_for("sales.opportunity_detail", opportunity_id=opportunity.id),
        opportunity=opportunity,
        stage_probability=STAGE_PROBABILITY,
    )


@bp.route("/opportunities/new", methods=["GET", "POST"])
@require("sales.edit")
def opportunity_new():
    """A new opportunity, for a customer chosen here or passed as ?customer_id=."""
    form = OpportunityForm()
    wanted = request.args.get("customer_id", type=int)
    if wanted and svc.visible_customer(current_user, wanted) is None:
        abort(404)
    if request.method == "GET":
        form.customer_id.data = wanted
    return _edit(form, None)


@bp.route("/opportunities/<int:opportunity_id>/edit", methods=["GET", "POST"])
@require("sales.edit")
def opportunity_edit(opportunity_id: int):
    """Change an opportunity's customer, title, amount, probability, close date, next step."""
    opportunity = get_visible_or_404(Opportunity, opportunity_id, current_user)
    if not svc.may_change(current_user, opportunity):
        abort(403)
    # The customer is a picker (core/pickers): typed, searched and checked through the
    # record rules, not a select of every customer.
    form = OpportunityForm(obj=opportunity) if request.method == "GET" else OpportunityForm()
    return _edit(form, opportunity)


# --- one opportunity ----------------------------------------------------------------------------


def _contracts_of(opportunity: Opportunity) -> list:
    """The contracts drafted from this opportunity that the user may see (one query), when
    the contracts chapter is installed."""
    if "contracts.detail" not in current_app.view_functions or not can(
        current_user, "contracts.view"
    ):
        return []

    return list(
        db.session.scalars(
            visible(select(Contract), current_user, Contract)
            .where(Contract.opportunity_id == opportunity.id)
            .order_by(Contract.id.desc())
        ).unique()
    )


def _detail_context(opportunity: Opportunity, **extra) -> dict:
    history = svc.stage_history(opportunity)
    may_contract = (
        "contracts.new" in current_app.view_functions
        and can(current_user, "contracts.draft")
        and opportunity.stage in ("negotiation", "won")
    )
    return {
        "o": opportunity,
        "contracts": _contracts_of(opportunity),
        "history": history,
        "duration": svc.duration_text,
        "may_change": svc.may_change(current_user, opportunity),
        "may_contract": may_contract,
        "move_form": extra.pop("move_form", None) or MoveForm(stage=opportunity.stage),
        "confirm": ConfirmForm(),
        "next_stage": svc.next_stage(opportunity.stage),
        "previous_stage": svc.previous_stage(opportunity.stage),
        "weighted": svc.weighted(opportunity.amount, opportunity.probability),
        "today": clock.today(),
        **extra,
    }


@bp.get("/opportunities/<int:opportunity_id>")
@require("sales.view")
def opportunity_detail(opportunity_id: int):
    """An opportunity: what it is, where it stands, its stage history and time in each stage."""
    opportunity = get_visible_or_404(Opportunity, opportunity_id, current_user)
    return render("sales/opportunity_detail.html", **_detail_context(opportunity))


def _refused_page(opportunity_id: int, message: str):
    """The opportunity's page again (422), with why the action was refused."""
    opportunity = get_visible_or_404(Opportunity, opportunity_id, current_user)
    return render(
        "sales/opportunity_detail.html",
        status=422,
        **_detail_context(opportunity, action_error=message),
    )


def _lose_page(opportunity: Opportunity, form: MoveForm, view: str, status: int = 200):
    return render(
        "sales/opportunity_lose.html",
        block="lose_form",
        status=status,
        o=opportunity,
        form=form,
        view=view,
        query=svc.OpportunityQuery.from_args(request.values),
    )


@bp.get("/opportunities/<int:opportunity_id>/lose")
@require("sales.edit")
def opportunity_lose(opportunity_id: int):
    """The small form that asks why an opportunity was lost."""
    opportunity = get_visible_or_404(Opportunity, opportunity_id, current_user)
    if not svc.may_change(current_user, opportunity):
        abort(403)
    view = "board" if request.args.get("view") == "board" else "detail"
    return _lose_page(opportunity, MoveForm(stage="lost"), view)


def _board_answer(status: int = 200, **extra):
    filters, query = _filtered(request.form)
    response = render(
        "sales/pipeline.html",
        block="pipeline_board",
        status=status,
        **_board_context(filters, query, **extra),
    )
    return retarget(response, "#pipeline_board", "outerHTML") if is_partial() else response


@bp.post("/opportunities/<int:opportunity_id>/move")
@require("sales.edit")
def opportunity_move(opportunity_id: int):
    """Move an opportunity to another stage, win it, or lose it (with the reason)."""
    opportunity = get_visible_or_404(Opportunity, opportunity_id, current_user)
    view = "board" if request.form.get("view") == "board" else "detail"
    # A card's buttons send `stage`; its select (htmx, on change) sends `stage_pick`.
    formdata = request.form.copy()
    if not formdata.get("stage") and formdata.get("stage_pick"):
        formdata["stage"] = formdata["stage_pick"]
    form = MoveForm(formdata=formdata)
    # The won form has a "mark the customer as deal closed" box; other moves (board) do.
    customer_won = (
        request.form.get("customer_won") == "y" if "customer_won_choice" in request.form else True
    )
    return record_action(
        opportunity,
        lambda opportunity, form: svc.move_stage(
            current_user,
            opportunity,
            form.stage.data,
            lost_reason=form.lost_reason.data or "",
            customer_won=customer_won,
        ),
        message=lambda _change: _moved_message(opportunity.title, form.stage.data),
        then=lambda _change: _after_move(opportunity_id, form.stage.data, view),
        on_error=lambda error, form: _move_refused(opportunity_id, error, form, view),
        form=form,
    )


def _moved_message(title: str, to_stage: str) -> str:
    if to_stage == "won":
        return _("“%(title)s” won. Congratulations!", title=title)
    if to_stage == "lost":
        return _("“%(title)s” marked as lost.", title=title)
    return _("“%(title)s” moved to %(stage)s.", title=title, stage=svc.stage_label(to_stage))


def _after_move(opportunity_id: int, to_stage: str, view: str):
    """Where a move lands: the opportunity's page, or the board with the moved card first
    (redrawn in place with htmx; without JavaScript, the board at that card)."""
    if view != "board":
        return url_for("sales.opportunity_detail", opportunity_id=opportunity_id)
    moved = opportunity_id if to_stage in OPEN_STAGES else None
    if is_partial():
        return _board_answer(moved=moved)
    query = svc.OpportunityQuery.from_args(request.form)
    anchor = f"card-{moved}" if moved else None
    return url_for("sales.pipeline", moved=moved, **query.args(), _anchor=anchor)


def _move_refused(opportunity_id: int, error, form: MoveForm, view: str):
    """A move refused: the lost form again when the reason is missing; otherwise the
    message (every one of a form that did not validate) on the board or the page."""
    if form.errors:
        message = "; ".join(str(m) for errors in form.errors.values() for m in errors)
    elif error.field == "lost_reason":
        opportunity = get_visible_or_404(Opportunity, opportunity_id, current_user)
        response = _lose_page(opportunity, put_error(form, error), view, 422)
        if is_partial() and view == "board":
            retarget(response, f"#card-{opportunity.id}", "outerHTML")
        return response
    else:
        message = error.message
    if view == "board":
        return _board_answer(422, board_error=message)
    return _refused_page(opportunity_id, message)


@bp.post("/opportunities/<int:opportunity_id>/archive")
@require("sales.edit")
def opportunity_archive(opportunity_id: int):
    """Archive an opportunity (kept, not deleted): it leaves the board and the totals."""
    opportunity = get_visible_or_404(Opportunity, opportunity_id, current_user)
    return record_action(
        opportunity,
        lambda opportunity, form: svc.archive_opportunity(current_user, opportunity),
        message=_("Opportunity “%(title)s” archived."),
        then=url_for("sales.opportunities"),
        on_error=lambda error, form: _refused_page(opportunity_id, error.message),
    )


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add(
        "P4", nav.NavEntry("sales.pipeline", _l("Sales pipeline"), ("sales.view",), icon="chart")
    )
    nav.add(
        "P4", nav.NavEntry("sales.opportunities", _l("Opportunities"), ("sales.view",), icon="doc")
    )
    cp.register_action(
        cp.Action("sales.opportunity_new", _l("New opportunity"), ("sales.edit",), order=20)
    )
    cp.register_panel(
        cp.Panel(
            "opportunities",
            _l("Opportunities"),
            "sales/_customer_opportunities.html",
            _panel,
            ("sales.view",),
            order=20,
        )
    )
    cp.register_timeline_source("opportunity", _timeline)
