"""The pipeline's rules (P4.1): stage moves write history, default probabilities, weighted
totals, closed opportunities do not move, a lost one needs its reason, record rules."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mktapp.extensions import db
from mktapp.models import User, utcnow
from mktapp.models.sales import Customer, Opportunity, OpportunityStageChange
from mktapp.sales import pipeline as svc


@pytest.fixture
def ctx(app, demo):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield {name: db.session.get(User, uid) for name, uid in demo.items()}


def own_customer(user) -> Customer:
    return db.session.scalars(
        select(Customer).where(Customer.owner_id == user.id).order_by(Customer.id)
    ).first()


def new_opp(user, **kw) -> Opportunity:
    now = kw.pop("now", None)
    data = svc.OpportunityInput(
        customer_id=kw.pop("customer_id", own_customer(user).id),
        title=kw.pop("title", "会议室改造"),
        amount=kw.pop("amount", Decimal("100000.00")),
        **kw,
    )
    return svc.create_opportunity(user, data, now=now)


def changes_of(opp) -> list[tuple[str, str]]:
    return [
        (c.from_stage, c.to_stage)
        for c in db.session.scalars(
            select(OpportunityStageChange)
            .where(OpportunityStageChange.opportunity_id == opp.id)
            .order_by(OpportunityStageChange.id)
        )
    ]


def test_new_opportunity_takes_the_stage_default_probability_and_records_its_creation(ctx):
    opp = new_opp(ctx["sales1"])
    assert opp.stage == "prospect" and opp.probability == 10
    assert opp.owner_id == ctx["sales1"].id
    assert changes_of(opp) == [("", "prospect")]
    needs = new_opp(ctx["sales1"], stage="needs")
    assert needs.probability == 40
    chosen = new_opp(ctx["sales1"], probability=35)
    assert chosen.probability == 35


def test_every_stage_move_writes_history_and_sets_the_stage_probability(ctx):
    rep = ctx["sales1"]
    opp = new_opp(rep)
    for stage, probability in [
        ("contact", 20),
        ("needs", 40),
        ("proposal", 60),
        ("negotiation", 80),
    ]:
        change = svc.move_stage(rep, opp, stage)
        assert change.by_id == rep.id and change.to_stage == stage
        assert opp.probability == probability
    svc.move_stage(rep, opp, "won")
    assert opp.stage == "won" and opp.probability == 100 and opp.closed_at is not None
    assert opp.customer.status == "won"
    assert changes_of(opp) == [
        ("", "prospect"),
        ("prospect", "contact"),
        ("contact", "needs"),
        ("needs", "proposal"),
        ("proposal", "negotiation"),
        ("negotiation", "won"),
    ]


def test_winning_may_leave_the_customer_status_alone(ctx):
    rep = ctx["sales1"]
    opp = new_opp(rep)
    status = opp.customer.status
    svc.move_stage(rep, opp, "won", customer_won=False)
    assert opp.customer.status == status


@pytest.mark.parametrize("closed", ["won", "lost"])
def test_a_won_or_lost_opportunity_cannot_move(ctx, closed):
    rep = ctx["sales1"]
    opp = new_opp(rep)
    svc.move_stage(rep, opp, closed, lost_reason="价格" if closed == "lost" else "")
    before = changes_of(opp)
    with pytest.raises(svc.PipelineError) as error:
        svc.move_stage(rep, opp, "contact")
    assert error.value.status == 422
    assert "closed" in error.value.message
    assert opp.stage == closed and changes_of(opp) == before


def test_losing_needs_a_reason(ctx):
    rep = ctx["sales1"]
    opp = new_opp(rep)
    with pytest.raises(svc.PipelineError) as error:
        svc.move_stage(rep, opp, "lost", lost_reason="  ")
    assert error.value.field == "lost_reason"
    assert opp.stage == "prospect" and changes_of(opp) == [("", "prospect")]
    svc.move_stage(rep, opp, "lost", lost_reason="客户选择了竞争对手")
    assert opp.stage == "lost" and opp.lost_reason == "客户选择了竞争对手" and opp.probability == 0


def test_weighted_total_is_amount_times_probability(ctx):
    rep = ctx["sales2"]
    base = svc.stage_totals(rep, svc.OpportunityQuery(mine=True))
    new_opp(rep, amount=Decimal("100000.00"))  # 10 %
    new_opp(rep, amount=Decimal("50000.00"), stage="proposal")  # 60 %
    new_opp(rep, amount=Decimal("20000.00"), probability=55)  # prospect, 55 %
    totals = svc.stage_totals(rep, svc.OpportunityQuery(mine=True))
    assert totals["prospect"].weighted - base["prospect"].weighted == Decimal("21000.00")
    assert totals["proposal"].weighted - base["proposal"].weighted == Decimal("30000.00")
    assert totals["prospect"].count - base["prospect"].count == 2
    assert svc.weighted(Decimal("12345.67"), 40) == Decimal("4938.27")


def test_only_owner_group_leader_or_manager_may_move(ctx):
    opp = new_opp(ctx["sales1"])
    assert svc.may_change(ctx["sales1"], opp)
    assert svc.may_change(ctx["sales3"], opp)  # leads 业务组
    assert svc.may_change(ctx["manager"], opp)
    assert not svc.may_change(ctx["sales2"], opp)
    assert not svc.may_change(ctx["boss"], opp)  # reads everything, moves nothing
    with pytest.raises(svc.NotAllowed):
        svc.move_stage(ctx["sales2"], opp, "contact")


def test_a_rep_cannot_open_an_opportunity_for_another_reps_customer(ctx):
    other = own_customer(ctx["sales2"])
    with pytest.raises(svc.PipelineError) as error:
        new_opp(ctx["sales1"], customer_id=other.id)
    assert error.value.field == "customer_id"


def test_stage_history_gives_the_time_spent_in_each_stage(ctx):
    rep = ctx["sales1"]
    start = utcnow() - timedelta(days=10)
    opp = new_opp(rep, now=start)
    svc.move_stage(rep, opp, "contact", now=start + timedelta(days=3))
    svc.move_stage(rep, opp, "needs", now=start + timedelta(days=7))
    rows = svc.stage_history(opp, now=start + timedelta(days=10))
    assert [r.change.to_stage for r in rows] == ["prospect", "contact", "needs"]
    assert [round(r.seconds / 86400) for r in rows] == [3, 4, 3]
    assert rows[-1].until is None


def test_the_board_counts_every_card_but_draws_only_the_first_of_each_column(ctx):
    rep = ctx["sales1"]
    for i in range(7):
        new_opp(rep, title=f"批量 {i}", stage="contact")
    board = svc.board(rep, svc.OpportunityQuery(mine=True), per_column=3)
    contact = next(c for c in board.columns if c.stage == "contact")
    total = db.session.scalar(
        select(func.count(Opportunity.id)).where(
            Opportunity.owner_id == rep.id, Opportunity.stage == "contact"
        )
    )
    assert contact.count == total >= 7
    assert len(contact.cards) == 3 and contact.more == total - 3
    more = svc.column_cards(rep, svc.OpportunityQuery(mine=True), "contact", 3, 100)
    assert len(more) == total - 3
    assert not {c.id for c in more} & {c.id for c in contact.cards}


def test_the_funnel_counts_what_reached_each_stage(ctx):
    rep = ctx["sales2"]
    before = svc.funnel(rep, svc.OpportunityQuery(mine=True))
    opp = new_opp(rep)
    svc.move_stage(rep, opp, "contact")
    svc.move_stage(rep, opp, "needs")
    after = svc.funnel(rep, svc.OpportunityQuery(mine=True))
    for stage in ("prospect", "contact", "needs"):
        assert after[stage][0] == before[stage][0] + 1
    assert after["proposal"] == before["proposal"]
