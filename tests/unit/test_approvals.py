"""The approval engine, proven on a throwaway flow over training records."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from mktapp.core import approvals as engine
from mktapp.extensions import db
from mktapp.models import ApprovalEvent, Group, Notification, TrainingRecord, User


@pytest.fixture
def flow(training_flow):
    return training_flow


@pytest.fixture
def ctx(app, demo):
    with app.test_request_context():
        yield demo


def user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def doc(owner: str, hours: str = "4") -> TrainingRecord:
    record = TrainingRecord(
        owner_id=user(owner).id, course="测试课程", taken_on=date(2026, 3, 1), hours=Decimal(hours)
    )
    db.session.add(record)
    db.session.flush()
    return record


def current(record) -> engine.ApprovalStep | None:
    return engine.pending_step(engine.current_request(record))


def test_first_step_goes_to_the_applicants_group_leader(ctx, flow):
    record = doc("sales1")
    engine.submit(record, user("sales1"))
    step = current(record)
    assert step.code == "head" and step.assignee_user_id == user("sales3").id
    assert ("submitted", record.id) in flow.calls
    # The leader is told.
    titles = db.session.scalars(
        select(Notification.title).where(Notification.user_id == user("sales3").id)
    ).all()
    assert any("测试课程" in t for t in titles)


def test_a_leaders_own_document_goes_one_level_up(ctx, flow):
    record = doc("sales3")
    engine.submit(record, user("sales3"))
    step = current(record)
    assert step.assignee_user_id is None and step.assignee_role == "marketing_manager"
    assert step.escalated_from == "group_leader"


def test_role_step_never_falls_to_the_applicant(ctx, flow):
    record = doc("finance1")  # finance1 has no group and is the only finance user
    engine.submit(record, user("finance1"))
    head = current(record)
    assert head.assignee_role == "marketing_manager"
    engine.approve(head.id, user("manager"))
    finance = current(record)
    assert finance.code == "finance" and finance.assignee_role == "executive"
    assert not engine.may_decide(user("finance1"), finance)


def test_whole_flow_approves_and_skips_the_conditional_step(ctx, flow):
    record = doc("sales1", hours="4")
    engine.submit(record, user("sales1"))
    engine.approve(current(record).id, user("sales3"), "同意")
    request = engine.approve(current(record).id, user("finance1"))
    assert request.status == "approved"
    assert [s.status for s in request.steps] == ["approved", "approved", "skipped"]
    assert ("approved", record.id) in flow.calls
    actions = [e.action for e in engine.timeline(record)]
    assert actions == ["submit", "approve", "approve"]
    assert engine.is_locked(record)


def test_large_document_needs_the_executive(ctx, flow):
    record = doc("sales1", hours="12")
    engine.submit(record, user("sales1"))
    engine.approve(current(record).id, user("sales3"))
    engine.approve(current(record).id, user("finance1"))
    step = current(record)
    assert step.code == "leader" and step.assignee_role == "executive"
    assert engine.approve(step.id, user("boss")).status == "approved"


def test_wrong_person_or_wrong_step_cannot_decide(ctx, flow):
    record = doc("sales1")
    engine.submit(record, user("sales1"))
    step = current(record)
    for name in ("sales1", "sales2", "finance1", "manager"):
        with pytest.raises(engine.NotYourStep):
            engine.approve(step.id, user(name))
    waiting = engine.current_request(record).steps[1]
    with pytest.raises(engine.AlreadyDecided):
        engine.approve(waiting.id, user("finance1"))


def test_a_step_is_decided_once(ctx, flow):
    record = doc("sales1")
    engine.submit(record, user("sales1"))
    step_id = current(record).id
    engine.approve(step_id, user("sales3"))
    with pytest.raises(engine.AlreadyDecided):
        engine.approve(step_id, user("sales3"))
    with pytest.raises(engine.AlreadyDecided):
        engine.reject(step_id, user("sales3"), "再议")


def test_reject_needs_a_reason_returns_and_allows_a_new_round(ctx, flow):
    record = doc("sales1")
    engine.submit(record, user("sales1"))
    engine.approve(current(record).id, user("sales3"))
    step_id = current(record).id
    with pytest.raises(engine.ApprovalError):
        engine.reject(step_id, user("finance1"), "  ")
    request = engine.reject(step_id, user("finance1"), "发票抬头不对")
    assert request.status == "rejected"
    assert [s.status for s in request.steps] == ["approved", "rejected", "skipped"]
    assert ("rejected", record.id) in flow.calls
    assert not engine.is_locked(record)
    second = engine.submit(record, user("sales1"))
    assert second.round == 2 and current(record).code == "head"
    rounds = [(e.round, e.action) for e in engine.timeline(record)]
    assert rounds == [(1, "submit"), (1, "approve"), (1, "reject"), (2, "submit")]


def test_cannot_submit_twice_or_for_someone_else(ctx, flow):
    record = doc("sales1")
    with pytest.raises(engine.NotYourStep):
        engine.submit(record, user("sales2"))
    engine.submit(record, user("sales1"))
    with pytest.raises(engine.ApprovalError):
        engine.submit(record, user("sales1"))


def test_withdraw_only_by_the_applicant_before_the_first_decision(ctx, flow):
    record = doc("sales1")
    engine.submit(record, user("sales1"))
    with pytest.raises(engine.NotYourStep):
        engine.withdraw(record, user("sales3"))
    request = engine.withdraw(record, user("sales1"))
    assert request.status == "withdrawn" and ("withdrawn", record.id) in flow.calls
    engine.submit(record, user("sales1"))
    engine.approve(current(record).id, user("sales3"))
    with pytest.raises(engine.ApprovalError):
        engine.withdraw(record, user("sales1"))


def test_inbox_lists_what_waits_on_me_and_counts_it(ctx, flow):
    for _ in range(3):
        engine.submit(doc("sales1"), user("sales1"))
    engine.submit(doc("market2"), user("market2"))
    assert engine.inbox_count(user("sales3")) == 3
    assert engine.inbox_count(user("market1")) == 1
    assert engine.inbox_count(user("finance1")) == 0
    assert engine.inbox_count(user("sales1")) == 0
    assert all(s.request.applicant.username == "sales1" for s in engine.inbox(user("sales3")))


def test_comments_go_on_the_timeline(ctx, flow):
    record = doc("sales1")
    with pytest.raises(engine.ApprovalError):
        engine.comment(record, user("sales3"), "先看看")
    engine.submit(record, user("sales1"))
    engine.comment(record, user("sales3"), "请补充发票")
    assert engine.timeline(record)[-1].comment == "请补充发票"


def test_nobody_above_the_top_means_no_approver(ctx, flow):
    db.session.get(User, user("boss").id)
    record = doc("manager")
    # Make the manager the only executive too: then nobody stands above.
    for name in ("boss",):
        user(name).active = False
    db.session.flush()
    with pytest.raises(engine.NoApprover):
        engine.submit(record, user("manager"))


@pytest.mark.commits
def test_two_people_deciding_at_once_record_exactly_one_decision(app, demo, flow):
    """Two finance users click approve on the same step at the same moment."""
    with app.app_context():
        from mktapp.auth.services import create_user

        create_user(
            username="finance2",
            display_name="财务二",
            password="finance-two-2026",
            hash_method=app.config["PASSWORD_HASH_METHOD"],
            roles=["finance"],
        )
        record = doc("sales1")
        engine.submit(record, user("sales1"))
        engine.approve(current(record).id, user("sales3"))
        step_id = current(record).id
        record_id = record.id
        db.session.commit()
        db.session.remove()

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(name: str) -> None:
        with app.app_context():
            actor = user(name)
            barrier.wait()
            try:
                engine.approve(step_id, actor, name)
                db.session.commit()
                outcomes.append("ok")
            except engine.AlreadyDecided:
                outcomes.append("conflict")
            except Exception as error:  # noqa: BLE001 (a lock timeout counts as a conflict)
                db.session.rollback()
                outcomes.append(f"error:{error.__class__.__name__}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=decide, args=(n,)) for n in ("finance1", "finance2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict", "ok"], outcomes
    with app.app_context():
        approvals = db.session.scalars(
            select(ApprovalEvent).where(
                ApprovalEvent.doc_id == record_id,
                ApprovalEvent.action == "approve",
                ApprovalEvent.step_code == "finance",
            )
        ).all()
        assert len(approvals) == 1


def test_group_without_leader_goes_to_the_manager(ctx, flow):
    group = db.session.scalar(select(Group).where(Group.code == "service"))
    group.leader_id = None
    db.session.flush()
    record = doc("service2")
    engine.submit(record, user("service2"))
    assert current(record).assignee_role == "marketing_manager"
