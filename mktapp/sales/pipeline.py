"""The pipeline (P4.1 steps 1–5): opportunities moving through the five stages, then won
or lost; the board, the list, the funnel and the weighted pipeline.

Plain Python over the models: no request, no flash, no current_user. Each stage move
writes one OpportunityStageChange (from, to, at, by); the status of an opportunity is
set nowhere but in move_stage().
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import aliased, joinedload, lazyload

from mktapp.core import lists, vocab
from mktapp.core.errors import DomainError
from mktapp.core.money import CENT, MAX_AMOUNT
from mktapp.core.permissions import can, visible
from mktapp.extensions import db
from mktapp.models import User, utcnow
from mktapp.models.sales import (
    OPEN_STAGES,
    OPPORTUNITY_STAGES,
    STAGE_PROBABILITY,
    Customer,
    Opportunity,
    OpportunityStageChange,
)

# The stages' words (the codes and labels are the model's); a stage's tag is coloured by stage-<code>.
STAGES = OPPORTUNITY_STAGES
CLOSED_STAGES = ("won", "lost")
BOARD_CARDS = 12  # cards drawn per column; the rest behind "more"


# --- errors ----------------------------------------------------------------------------


class PipelineError(DomainError):
    """Something asked of an opportunity that cannot be done; str() is the message."""


class NotAllowed(PipelineError):
    status = 403


# --- small rules -----------------------------------------------------------------------


stage_label = STAGES.label


def next_stage(code: str) -> str | None:
    if code not in OPEN_STAGES:
        return None
    i = OPEN_STAGES.index(code)
    return OPEN_STAGES[i + 1] if i + 1 < len(OPEN_STAGES) else None


def previous_stage(code: str) -> str | None:
    if code not in OPEN_STAGES:
        return None
    i = OPEN_STAGES.index(code)
    return OPEN_STAGES[i - 1] if i > 0 else None


def may_change(user, opportunity: Opportunity) -> bool:
    """The owner, the leader of the owner's group, or the marketing manager."""
    if not can(user, "sales.edit") or opportunity.is_archived:
        return False
    if "marketing_manager" in user.role_codes or opportunity.owner_id == user.id:
        return True
    group = user.leads_group
    owner = opportunity.owner
    return group is not None and owner is not None and owner.group_id == group.id


def parse_amount(raw: Any) -> Decimal:
    """An amount typed by a person ("1,234.50", "¥88"); PipelineError when it is not one."""
    text = str(raw if raw is not None else "").strip().replace(",", "").replace("，", "")
    text = text.lstrip("¥￥").strip()
    if not text:
        return Decimal("0.00")
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        raise PipelineError(_("Enter the amount as a number, like 1234.50."), "amount") from None
    if not value.is_finite():
        raise PipelineError(_("Enter the amount as a number, like 1234.50."), "amount")
    if value < 0:
        raise PipelineError(_("The amount cannot be negative."), "amount")
    if value >= MAX_AMOUNT:
        raise PipelineError(_("The amount is too large."), "amount")
    if value != value.quantize(CENT):
        raise PipelineError(_("Use at most two decimals (yuan and fen)."), "amount")
    return value


def weighted(amount: Decimal | None, probability: int | None) -> Decimal:
    """Amount × probability: what the opportunity is worth to the forecast."""
    return (Decimal(amount or 0) * Decimal(probability or 0) / 100).quantize(CENT)


# --- create, edit, move, archive ------------------------------------------------------------


@dataclass
class OpportunityInput:
    customer_id: int | None
    title: str
    amount: Decimal = Decimal("0.00")
    probability: int | None = None  # None: the stage's default
    expected_close: date | None = None
    next_step: str = ""
    stage: str = "prospect"  # creation only


def visible_customer(user, customer_id: int | None) -> Customer | None:
    if not customer_id:
        return None
    stmt = select(Customer).where(Customer.id == customer_id, Customer.archived_at.is_(None))
    return db.session.scalars(visible(stmt, user, Customer)).first()


def _check(data: OpportunityInput, user) -> Customer:
    customer = visible_customer(user, data.customer_id)
    if customer is None:
        raise PipelineError(_("Choose a customer from the list."), "customer_id")
    if not (data.title or "").strip():
        raise PipelineError(_("Give the opportunity a title."), "title")
    if data.probability is not None and not 0 <= data.probability <= 100:
        raise PipelineError(_("The probability is a percentage from 0 to 100."), "probability")
    return customer


def _record(opportunity: Opportunity, from_stage: str, to_stage: str, actor, at: datetime):
    db.session.add(
        OpportunityStageChange(
            opportunity=opportunity,
            from_stage=from_stage,
            to_stage=to_stage,
            at=at,
            by_id=actor.id if actor is not None else None,
        )
    )


def create_opportunity(actor, data: OpportunityInput, now: datetime | None = None) -> Opportunity:
    """A new opportunity owned by the actor, for a customer the actor may see."""
    if not can(actor, "sales.edit"):
        raise NotAllowed(_("You may not create opportunities."))
    customer = _check(data, actor)
    stage = data.stage if data.stage in OPEN_STAGES else "prospect"
    now = now or utcnow()
    opportunity = Opportunity(
        customer=customer,
        title=data.title.strip(),
        stage=stage,
        amount=data.amount or Decimal("0.00"),
        probability=STAGE_PROBABILITY[stage] if data.probability is None else data.probability,
        expected_close=data.expected_close,
        next_step=(data.next_step or "").strip(),
        owner_id=actor.id,
        stage_changed_at=now,
    )
    db.session.add(opportunity)
    _record(opportunity, "", stage, actor, now)
    if customer.status == "potential":
        customer.status = "intent"
    db.session.flush()
    return opportunity


def update_opportunity(actor, opportunity: Opportunity, data: OpportunityInput) -> Opportunity:
    """Change what an opportunity says (not its stage: that is move_stage)."""
    if not may_change(actor, opportunity):
        raise NotAllowed(_("Only the owner, their group leader or the manager may change this."))
    customer = _check(data, actor)
    opportunity.customer = customer
    opportunity.title = data.title.strip()
    opportunity.amount = data.amount or Decimal("0.00")
    if data.probability is not None:
        opportunity.probability = data.probability
    opportunity.expected_close = data.expected_close
    opportunity.next_step = (data.next_step or "").strip()
    db.session.flush()
    return opportunity


def closed_message(opportunity: Opportunity) -> str:
    if opportunity.stage == "won":
        return _("This opportunity is won and closed; it cannot be moved.")
    return _("This opportunity is lost and closed; it cannot be moved.")


def move_stage(
    actor,
    opportunity: Opportunity,
    to_stage: str,
    lost_reason: str = "",
    customer_won: bool = True,
    now: datetime | None = None,
) -> OpportunityStageChange | None:
    """Move to another stage (or win / lose it); returns the change written.

    The probability becomes the new stage's default. A won or lost opportunity does not
    move. Losing needs a reason. Winning marks the customer 成交 unless customer_won=False.
    """
    if not may_change(actor, opportunity):
        raise NotAllowed(_("Only the owner, their group leader or the manager may move this."))
    if not opportunity.is_open:
        raise PipelineError(closed_message(opportunity), "stage")
    if to_stage not in OPPORTUNITY_STAGES:
        raise PipelineError(_("Choose a stage from the list."), "stage")
    if to_stage == opportunity.stage:
        return None
    reason = (lost_reason or "").strip()
    if to_stage == "lost" and not reason:
        raise PipelineError(_("Say why the opportunity was lost."), "lost_reason")
    now = now or utcnow()
    from_stage = opportunity.stage
    opportunity.stage = to_stage
    opportunity.probability = STAGE_PROBABILITY[to_stage]
    opportunity.stage_changed_at = now
    if to_stage in CLOSED_STAGES:
        opportunity.closed_at = now
    if to_stage == "lost":
        opportunity.lost_reason = reason
    if to_stage == "won" and customer_won and opportunity.customer is not None:
        opportunity.customer.status = "won"
    change = OpportunityStageChange(
        opportunity=opportunity,
        from_stage=from_stage,
        to_stage=to_stage,
        at=now,
        by_id=actor.id,
    )
    db.session.add(change)
    db.session.flush()
    return change


def archive_opportunity(actor, opportunity: Opportunity) -> None:
    """Archive (kept, not deleted): it leaves the board, the list and the totals."""
    if not may_change(actor, opportunity):
        raise NotAllowed(_("Only the owner, their group leader or the manager may archive this."))
    opportunity.archived_at = utcnow()


# --- history ------------------------------------------------------------------------------


@dataclass
class HistoryRow:
    change: OpportunityStageChange
    until: datetime | None  # when the next move happened (None: still there)
    seconds: float  # time spent in change.to_stage


def stage_history(opportunity: Opportunity, now: datetime | None = None) -> list[HistoryRow]:
    """The moves, oldest first, each with the time spent in the stage it moved to (one query)."""
    changes = list(
        db.session.scalars(
            select(OpportunityStageChange)
            .where(OpportunityStageChange.opportunity_id == opportunity.id)
            .options(joinedload(OpportunityStageChange.by).options(lazyload(User.roles)))
            .order_by(OpportunityStageChange.at, OpportunityStageChange.id)
        )
    )
    now = now or utcnow()
    rows = []
    for i, change in enumerate(changes):
        until = changes[i + 1].at if i + 1 < len(changes) else None
        end = until or (now if change.to_stage in OPEN_STAGES else change.at)
        rows.append(HistoryRow(change, until, max(0.0, (end - change.at).total_seconds())))
    return rows


def duration_text(seconds: float) -> str:
    days = int(seconds // 86400)
    if days >= 1:
        return _("%(n)s d", n=days)
    hours = int(seconds // 3600)
    if hours >= 1:
        return _("%(n)s h", n=hours)
    return _("%(n)s min", n=max(0, int(seconds // 60)))


# --- filters shared by the board and the list -----------------------------------------------

# The list's columns, in the table's order (the board's columns are Column, below).
OPPORTUNITIES = lists.ListSpec(
    "opportunity",
    [
        # The export starts with the customer, the table with the title.
        lists.Column(
            "export_customer",
            _l("Customer"),
            lambda o: o.customer.name if o.customer else "",
            screen=False,
        ),
        lists.Column("title", _l("Title"), lambda o: o.title, sort=Opportunity.title),
        lists.Column("customer", _l("Customer"), sort=Customer.name, export=False),
        lists.Column("stage", _l("Stage"), lambda o: stage_label(o.stage), sort=Opportunity.stage),
        lists.Column(
            "amount", _l("Amount"), lambda o: o.amount, sort=Opportunity.amount, cls="num"
        ),
        lists.Column(
            "probability",
            _l("Probability"),
            sort=Opportunity.probability,
            cls="num",
            export=False,
        ),
        lists.Column(
            "probability_pct", _l("Probability (%)"), lambda o: o.probability, screen=False
        ),
        lists.Column(
            "weighted",
            _l("Weighted amount"),
            lambda o: weighted(o.amount, o.probability),
            screen=False,
        ),
        lists.Column(
            "close",
            _l("Expected close"),
            lambda o: o.expected_close,
            sort=Opportunity.expected_close,
        ),
        lists.Column("next_step", _l("Next step"), lambda o: o.next_step, screen=False),
        lists.Column(
            "owner",
            _l("Owner"),
            lambda o: o.owner.display_name if o.owner else "",
            sort=User.display_name,
        ),
        lists.Column("lost_reason", _l("Lost reason"), lambda o: o.lost_reason, screen=False),
        lists.Column("created", _l("Created"), lambda o: o.created_at, screen=False),
        lists.Column("closed", _l("Closed"), lambda o: o.closed_at, screen=False),
    ],
    filters=[
        lists.Filter("stage", lists.one_of(*OPPORTUNITY_STAGES)),
        lists.Filter("owner", lists.integer, default=None),
        lists.Filter("customer", lists.integer, default=None),
        lists.Filter("mine", lists.flag, default=False),
        lists.Filter("close_from", lists.iso_date, arg="from", default=None),
        lists.Filter("close_to", lists.iso_date, arg="to", default=None),
        lists.Filter("archived", lists.flag, default=False),
    ],
    default_sort="close",
    tie=Opportunity.id,
    sorts={"updated": Opportunity.updated_at},
)
# What the board or the list shows, read from the URL; anything not understood ignored.
OpportunityQuery = OPPORTUNITIES.Query


def _conditions(user, query: OpportunityQuery) -> list:
    conditions = [
        Opportunity.archived_at.is_not(None)
        if query.archived
        else Opportunity.archived_at.is_(None)
    ]
    if query.mine:
        conditions.append(Opportunity.owner_id == user.id)
    elif query.owner:
        conditions.append(Opportunity.owner_id == query.owner)
    if query.customer:
        conditions.append(Opportunity.customer_id == query.customer)
    if query.close_from:
        conditions.append(Opportunity.expected_close >= query.close_from)
    if query.close_to:
        conditions.append(Opportunity.expected_close <= query.close_to)
    if query.q:
        conditions.append(
            or_(
                lists.contains(query.q, Opportunity.title, Opportunity.next_step),
                Opportunity.customer_id.in_(
                    select(Customer.id).where(lists.contains(query.q, Customer.name))
                ),
                lists.contains(query.q, cast(Opportunity.amount, String)),
            )
        )
    return conditions


def _filtered(user, query: OpportunityQuery):
    stmt = visible(select(Opportunity), user, Opportunity).where(*_conditions(user, query))
    if query.stage:
        stmt = stmt.where(Opportunity.stage == query.stage)
    return stmt


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


# --- the board ---------------------------------------------------------------------------


@dataclass
class Column:
    stage: str
    count: int = 0
    amount: Decimal = Decimal("0.00")
    weighted: Decimal = Decimal("0.00")
    cards: list[Opportunity] = field(default_factory=list)
    pinned: int | None = None  # the card just moved here: first, whatever its close date

    @property
    def label(self) -> str:
        return stage_label(self.stage)

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.cards))

    @property
    def offset(self) -> int:
        """Where the "more" link goes on in the column's order (the pinned card left out)."""
        return len(self.cards) - (1 if self.pinned else 0)


@dataclass
class Board:
    columns: list[Column]
    won: Column
    lost: Column

    @property
    def open_count(self) -> int:
        return sum(c.count for c in self.columns)

    @property
    def open_amount(self) -> Decimal:
        return sum((c.amount for c in self.columns), Decimal("0.00"))

    @property
    def open_weighted(self) -> Decimal:
        return sum((c.weighted for c in self.columns), Decimal("0.00"))


def stage_totals(user, query: OpportunityQuery) -> dict[str, Column]:
    """Count, amount and weighted amount per stage: one GROUP BY."""
    stmt = visible(
        select(
            Opportunity.stage,
            func.count(Opportunity.id),
            func.coalesce(func.sum(Opportunity.amount), 0),
            func.coalesce(func.sum(Opportunity.amount * Opportunity.probability), 0),
        ),
        user,
        Opportunity,
    ).where(*_conditions(user, query))
    totals = {stage: Column(stage) for stage in OPPORTUNITY_STAGES}
    for stage, count, amount, weighted_sum in db.session.execute(stmt.group_by(Opportunity.stage)):
        if stage in totals:
            totals[stage].count = count
            totals[stage].amount = _money(amount)
            totals[stage].weighted = _money(Decimal(str(weighted_sum or 0)) / 100)
    return totals


def _card_order(entity):
    return (entity.expected_close.is_(None), entity.expected_close, entity.id)


def _card_options(entity):
    return (
        joinedload(entity.owner).options(lazyload(User.roles), lazyload(User.group)),
        joinedload(entity.customer).options(lazyload(Customer.created_by)),
    )


def board(
    user, query: OpportunityQuery, per_column: int = BOARD_CARDS, pinned: int | None = None
) -> Board:
    """The open stages as columns with their totals and first cards; won and lost counted.

    Two queries whatever the size: the totals (GROUP BY stage) and the first cards of
    every column at once (ROW_NUMBER() per stage, ordered by expected close). `pinned`,
    the card just moved, comes first in its column (one more query) so that it stays in
    sight even when its close date would put it behind the column's "more" link.
    """
    totals = stage_totals(user, query)
    first = _pinned_card(user, query, pinned)
    rn = (
        func.row_number()
        .over(partition_by=Opportunity.stage, order_by=_card_order(Opportunity))
        .label("rn")
    )
    inner = (
        visible(select(Opportunity.id, rn), user, Opportunity)
        .where(
            *_conditions(user, query),
            Opportunity.stage.in_(OPEN_STAGES),
            *([Opportunity.id != first.id] if first else []),
        )
        .subquery()
    )
    cards = db.session.scalars(
        select(Opportunity)
        .join(inner, inner.c.id == Opportunity.id)
        .where(inner.c.rn <= per_column)
        .options(*_card_options(Opportunity))
        .order_by(*_card_order(Opportunity))
    ).unique()
    if first:
        column = totals[first.stage]
        column.cards.append(first)
        column.pinned = first.id
    for card in cards:
        totals[card.stage].cards.append(card)
    return Board([totals[s] for s in OPEN_STAGES], totals["won"], totals["lost"])


def _pinned_card(user, query: OpportunityQuery, opportunity_id: int | None) -> Opportunity | None:
    """The card to show first: open, visible to the user and within the board's filters."""
    if not opportunity_id:
        return None
    return db.session.scalars(
        visible(select(Opportunity), user, Opportunity)
        .where(
            *_conditions(user, query),
            Opportunity.id == opportunity_id,
            Opportunity.stage.in_(OPEN_STAGES),
        )
        .options(*_card_options(Opportunity))
    ).first()


def column_cards(
    user,
    query: OpportunityQuery,
    stage: str,
    offset: int,
    limit: int = BOARD_CARDS,
    skip: int | None = None,
):
    """More cards of one column (the "more" link): one query. `skip` is the card pinned
    on top of the column, already shown."""
    if stage not in OPEN_STAGES:
        return []
    return list(
        db.session.scalars(
            visible(select(Opportunity), user, Opportunity)
            .where(
                *_conditions(user, query),
                Opportunity.stage == stage,
                *([Opportunity.id != skip] if skip else []),
            )
            .options(*_card_options(Opportunity))
            .order_by(*_card_order(Opportunity))
            .offset(max(0, offset))
            .limit(limit)
        ).unique()
    )


# --- the list ----------------------------------------------------------------------------


def _list_statement(user, query):
    """The filtered list, joined to what it sorts by. Sorted by close date, the open
    opportunities come first and those without a date last, whichever the direction: the
    spec's order follows these."""
    stmt = (
        _filtered(user, query)
        .join(Customer, Customer.id == Opportunity.customer_id)
        .outerjoin(User, User.id == Opportunity.owner_id)
    )
    if query.sort == "close":
        stmt = stmt.order_by(
            Opportunity.closed_at.is_not(None), Opportunity.expected_close.is_(None)
        )
    return stmt


def list_opportunities(user, query, page_size: int) -> lists.ListPage:
    """One page of the filtered list, with its count, amount (`page.amount`) and weighted
    amount (`page.weighted`) in one query."""
    stmt = _list_statement(user, query).add_columns(
        (Opportunity.amount * Opportunity.probability).label("weighted_sum")
    )
    page = OPPORTUNITIES.page(
        stmt,
        query,
        page_size,
        totals={"amount": "amount", "weighted": "weighted_sum"},
        options=_card_options(Opportunity),
        unique=True,
    )
    page.amount = _money(page.totals["amount"])
    page.weighted = _money(Decimal(str(page.totals["weighted"] or 0)) / 100)
    return page


def export_rows(user, query, limit: int = 100_000) -> list[Opportunity]:
    stmt = _list_statement(user, query).options(*_card_options(Opportunity))
    return OPPORTUNITIES.export_rows(stmt, query, limit)


def owns_opportunities(user) -> Any:
    """The condition on User: owns an opportunity this user may see (the owner filter's
    picker source)."""
    return visible(
        select(Opportunity.id).where(Opportunity.owner_id == User.id), user, Opportunity
    ).exists()


def has_opportunities(user) -> Any:
    """The condition on Customer: has an opportunity this user may see (the customer
    filter's picker source)."""
    return visible(
        select(Opportunity.id).where(Opportunity.customer_id == Customer.id), user, Opportunity
    ).exists()


# --- the summary: funnel and weighted pipeline ----------------------------------------------


def funnel(user, query: OpportunityQuery) -> dict[str, tuple[int, Decimal]]:
    """How many opportunities reached each stage (and their amount), from the stage history:
    an opportunity now in 需求分析 counts in 寻找潜在客户 and 初步接触 too. One query."""
    reached = (
        select(OpportunityStageChange.opportunity_id, OpportunityStageChange.to_stage)
        .distinct()
        .subquery()
    )
    stmt = (
        visible(
            select(
                reached.c.to_stage,
                func.count(Opportunity.id),
                func.coalesce(func.sum(Opportunity.amount), 0),
            ).join(Opportunity, Opportunity.id == reached.c.opportunity_id),
            user,
            Opportunity,
        )
        .where(*_conditions(user, query))
        .group_by(reached.c.to_stage)
    )
    out = {stage: (0, Decimal("0.00")) for stage in OPPORTUNITY_STAGES}
    for stage, count, amount in db.session.execute(stmt):
        if stage in out:
            out[stage] = (count, _money(amount))
    return out


def by_close_month(user, query: OpportunityQuery) -> OrderedDict[str, tuple[Decimal, Decimal]]:
    """Open opportunities by expected close month: (amount, weighted), months in order.

    One query grouped by day (portable between SQLite and PostgreSQL), folded to months.
    Opportunities without a date are under "".
    """
    stmt = (
        visible(
            select(
                Opportunity.expected_close,
                func.coalesce(func.sum(Opportunity.amount), 0),
                func.coalesce(func.sum(Opportunity.amount * Opportunity.probability), 0),
            ),
            user,
            Opportunity,
        )
        .where(*_conditions(user, query), Opportunity.stage.in_(OPEN_STAGES))
        .group_by(Opportunity.expected_close)
    )
    months: dict[str, list[Decimal]] = {}
    for day, amount, weighted_sum in db.session.execute(stmt):
        key = day.strftime("%Y-%m") if day else ""
        slot = months.setdefault(key, [Decimal("0.00"), Decimal("0.00")])
        slot[0] += _money(amount)
        slot[1] += _money(Decimal(str(weighted_sum or 0)) / 100)
    ordered = OrderedDict()
    for key in sorted(k for k in months if k):
        ordered[key] = (months[key][0], months[key][1])
    if "" in months:
        ordered[""] = (months[""][0], months[""][1])
    return ordered


# --- the customer's page -------------------------------------------------------------------


def customer_opportunities(customer, user, limit: int = 50) -> list[Opportunity]:
    """The customer's opportunities this user may see, open ones first (one query)."""
    stmt = (
        visible(select(Opportunity), user, Opportunity)
        .where(Opportunity.customer_id == customer.id, Opportunity.archived_at.is_(None))
        .options(
            joinedload(Opportunity.owner).options(lazyload(User.roles), lazyload(User.group)),
            lazyload(Opportunity.customer),
        )
        .order_by(Opportunity.closed_at.is_not(None), Opportunity.created_at.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt).unique())


def customer_stage_changes(customer, user, limit: int = 50):
    """(change, opportunity title, by name) of the customer's opportunities, newest first."""
    by = aliased(User)
    stmt = (
        visible(
            select(
                OpportunityStageChange.at,
                OpportunityStageChange.from_stage,
                OpportunityStageChange.to_stage,
                Opportunity.id,
                Opportunity.title,
                Opportunity.amount,
                Opportunity.lost_reason,
                by.display_name,
            )
            .join(Opportunity, Opportunity.id == OpportunityStageChange.opportunity_id)
            .outerjoin(by, by.id == OpportunityStageChange.by_id),
            user,
            Opportunity,
        )
        .where(Opportunity.customer_id == customer.id)
        .order_by(OpportunityStageChange.at.desc(), OpportunityStageChange.id.desc())
        .limit(limit)
    )
    return db.session.execute(stmt).all()


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    vocab.expose(app, STAGES)
