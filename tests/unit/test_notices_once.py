"""A job's notice carries a key (what and which day): a user gets it once, whoever sends it
how often; it is mailed only when it was written. (Two jobs at the same instant:
tests/web/test_races.py.)"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mktapp.core import notify as notices
from mktapp.extensions import db
from mktapp.models import Notification, User


@pytest.fixture
def ctx(app, demo):
    with app.test_request_context():
        yield demo


def user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def held(user_id: int, key: str | None = None) -> int:
    stmt = select(func.count(Notification.id)).where(Notification.user_id == user_id)
    if key is not None:
        stmt = stmt.where(Notification.once_key == key)
    return db.session.scalar(stmt)


def mails() -> list:
    return list(db.session.info.get(notices.PENDING_KEY, []))


def test_the_same_key_twice_tells_the_user_once_and_mails_once(ctx):
    rep = user("sales1")
    rep.email = "sales1@example.cn"
    key = "followup:42:2026-12-07"
    first = notices.notify(rep, "今天跟进华东贸易", url="/sales/customers/1", once=key)
    assert first is not None and first.id and first.once_key == key and first.emailed
    assert len(mails()) == 1
    again = notices.notify(rep, "今天跟进华东贸易", url="/sales/customers/1", once=key)
    assert again is None
    assert held(rep.id, key) == 1 and len(mails()) == 1
    # After the commit too (the job run again later the same day).
    db.session.commit()
    assert notices.notify(rep, "今天跟进华东贸易", once=key) is None
    assert held(rep.id, key) == 1


def test_a_key_is_per_user_and_per_day(ctx):
    rep, manager = user("sales1"), user("manager")
    assert notices.notify(rep, "合同付款逾期", once="milestone_overdue:7:2026-12-06:2026-12-07")
    assert notices.notify(manager, "合同付款逾期", once="milestone_overdue:7:2026-12-06:2026-12-07")
    assert notices.notify(rep, "合同付款逾期", once="milestone_overdue:7:2026-12-06:2026-12-08")
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.once_key.like("milestone_overdue:7:%")
            )
        )
        == 3
    )


def test_notices_without_a_key_are_never_merged(ctx):
    rep = user("sales1")
    before = held(rep.id)
    for _ in range(3):
        assert notices.notify(rep, "报销已付款") is not None
    db.session.flush()
    assert held(rep.id) == before + 3
