"""A notice that asks for something is done when its task is: the approval engine marks
"waiting for your approval" notices done for everyone it addressed when the step is
decided or its round ends (approved, returned, withdrawn), and a "returned to you"
notice when the applicant submits again. Proven on the throwaway training flow."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from mktapp.core import approvals as engine
from mktapp.core.notify import notify, resolve
from mktapp.extensions import db
from mktapp.models import Notification, Role, TrainingRecord, User, utcnow


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
        owner_id=user(owner).id,
        course="报销流程培训",
        taken_on=date(2026, 3, 1),
        hours=Decimal(hours),
    )
    db.session.add(record)
    db.session.flush()
    return record


def current(record) -> engine.ApprovalStep | None:
    return engine.pending_step(engine.current_request(record))


def second_finance_user() -> User:
    """Finance is a pool: a second holder of the role hears of every finance step too."""
    person = User(username="finance2", display_name="钱会计", password_hash="x", active=True)
    person.roles.append(db.session.scalar(select(Role).where(Role.code == "finance")))
    db.session.add(person)
    db.session.flush()
    return person


def notices(step_or_task) -> list[Notification]:
    task = step_or_task if isinstance(step_or_task, str) else engine.step_task(step_or_task)
    db.session.flush()
    return list(db.session.scalars(select(Notification).where(Notification.task == task)).all())


def unread_approval_notices(name: str) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Notification.title).where(
                Notification.user_id == user(name).id,
                Notification.read_at.is_(None),
                Notification.task.like("approval_step:%"),
            )
        )
    )


def test_the_approvers_notice_names_its_step(ctx, flow):
    record = doc("sales1")
    engine.submit(record, user("sales1"))
    step = current(record)
    [note] = notices(step)
    assert note.user_id == user("sales3").id
    assert note.read_at is None and note.resolved_at is None
    assert "报销流程培训" in note.title


def test_deciding_a_step_marks_its_notice_done_for_every_holder_of_the_role(ctx, flow):
    other = second_finance_user()
    record = doc("sales1")
    engine.submit(record, user("sales1"))
    engine.approve(current(record).id, user("sales3"))
    finance_step = current(record)
    waiting = notices(finance_step)
    assert {n.user_id for n in waiting} == {user("finance1").id, other.id}
    assert all(n.read_at is None for n in waiting)

    engine.approve(finance_step.id, user("finance1"))

    db.session.expire_all()
    done = notices(finance_step)
    assert all(n.resolved_at is not None and n.read_at is not None for n in done)
    assert unread_approval_notices("finance1") == [] and unread_approval_notices("finance2") == []


def test_a_whole_approved_round_leaves_no_approval_notice_unread(ctx, flow):
    record = doc("sales1", hours="12")  # head, finance and the company leader
    engine.submit(record, user("sales1"))
    for name in ("sales3", "finance1", "boss"):
        engine.approve(current(record).id, user(name))
    assert engine.current_request(record).status == "approved"
    for name in ("sales3", "finance1", "boss"):
        assert unread_approval_notices(name) == []
    # The applicant's "approved" notice is news, not a task: it stays unread until read.
    db.session.expire_all()
    news = db.session.scalars(
        select(Notification).where(Notification.user_id == user("sales1").id)
    ).all()
    assert [n.read_at for n in news] == [None] and news[0].task == ""


def test_a_return_marks_the_approvers_notice_done_and_resubmitting_the_applicants(ctx, flow):
    record = doc("sales1")
    engine.submit(record, user("sales1"))
    engine.approve(current(record).id, user("sales3"))
    finance_step = current(record)
    first_round = engine.current_request(record)

    engine.reject(finance_step.id, user("finance1"), "缺少培训发票")

    assert unread_approval_notices("finance1") == []
    [returned] = notices(engine.return_task(first_round))
    assert returned.user_id == user("sales1").id and returned.resolved_at is None

    engine.submit(record, user("sales1"))

    db.session.expire_all()
    [returned] = notices(engine.return_task(first_round))
    assert returned.resolved_at is not None and returned.read_at is not None
    # The new round asks the department head again, with a fresh notice.
    assert len(unread_approval_notices("sales3")) == 1


def test_withdrawing_marks_the_waiting_approvers_notice_done(ctx, flow):
    record = doc("sales1")
    engine.submit(record, user("sales1"))
    assert len(unread_approval_notices("sales3")) == 1
    engine.withdraw(record, user("sales1"))
    assert unread_approval_notices("sales3") == []
    step = engine.current_request(record).steps[0]
    assert all(n.resolved_at is not None for n in notices(step))


def test_resolving_keeps_the_time_a_notice_was_read(ctx):
    earlier = utcnow() - timedelta(hours=3)
    read = notify(user("finance1"), "已读过的", task="demo:1")
    read.read_at = earlier
    unread = notify(user("manager"), "没读过的", task="demo:1")
    other = notify(user("manager"), "别的事", task="demo:2")
    db.session.flush()
    assert resolve("demo:1") == 2
    db.session.expire_all()
    assert read.read_at == earlier and read.resolved_at is not None
    assert unread.read_at is not None and unread.resolved_at is not None
    assert other.read_at is None and other.resolved_at is None
    assert resolve("demo:1") == 0  # once


def test_a_role_step_names_the_person_not_the_role_twice(ctx, flow):
    record = doc("sales1")
    engine.submit(record, user("sales1"))
    engine.approve(current(record).id, user("sales3"))
    step = current(record)
    assert step.assignee_role == "finance"
    label = engine.assignee_label(step)
    assert label == user("finance1").display_name
    assert "财务" not in label and "Finance" not in label


def test_a_step_sent_one_level_up_names_the_role_and_the_person(ctx, flow):
    record = doc("sales3")  # the group leader's own document goes to the marketing manager
    engine.submit(record, user("sales3"))
    step = current(record)
    assert step.escalated_from == "group_leader"
    label = engine.assignee_label(step)
    assert label.endswith(user("manager").display_name) and label != user("manager").display_name
