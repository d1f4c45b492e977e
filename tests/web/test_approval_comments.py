"""Comments on a document's approval are for the people in that approval: its applicant,
whoever has or had a step of it, those who approve such documents and those who oversee
every record. Someone who may only read the document (every sales rep reads the
company's activities) is offered no comment box and is refused (403) when he posts one;
one rule (engine.may_comment) decides both."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mktapp.extensions import db
from mktapp.models import ApprovalEvent
from mktapp.models.brand import Activity
from tests.web.test_brand_activities import _new

EN = {"Accept-Language": "en"}


@pytest.fixture
def activity(app, login) -> int:
    """An activity planned by market1 and submitted: it waits on the marketing manager."""
    client = login("market1")
    assert _new(client, theme="评论权限测试发布会").status_code in (200, 303)
    with app.app_context():
        activity_id = db.session.scalar(
            select(Activity.id).where(Activity.theme == "评论权限测试发布会")
        )
    assert client.post(f"/brand/activities/{activity_id}/submit").status_code == 303
    return activity_id


def _comments(app, activity_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(ApprovalEvent.comment)
                .where(
                    ApprovalEvent.doc_type == "Activity",
                    ApprovalEvent.doc_id == activity_id,
                    ApprovalEvent.action == "comment",
                )
                .order_by(ApprovalEvent.id)
            )
        )


def _box(client, activity_id: int) -> bool:
    page = client.get(f"/brand/activities/{activity_id}", headers=EN)
    assert page.status_code == 200
    return f'action="/approvals/Activity/{activity_id}/comment"' in page.get_data(as_text=True)


@pytest.mark.parametrize("username", ["sales1", "service1", "finance1"])
def test_a_reader_of_the_activity_may_not_comment_on_its_approval(app, login, activity, username):
    client = login(username)
    assert not _box(client, activity)  # he reads the activity, without a comment box
    url = f"/approvals/Activity/{activity}/comment"
    refused = client.post(url, {"comment": "我也想说两句"}, headers=EN)
    assert refused.status_code == 403
    assert "Only the people in this approval may comment on it." in refused.get_data(as_text=True)
    fragment = client.post(url, {"comment": "我也想说两句"}, htmx=True, headers=EN)
    assert fragment.status_code == 403
    assert _comments(app, activity) == []


@pytest.mark.parametrize(
    "username",
    [
        "market1",  # the applicant (the activity's owner)
        "manager",  # the step waiting on him; he approves activities
        "boss",  # the company leader: approves the large ones, oversees everything
    ],
)
def test_the_people_in_the_approval_comment_on_it(app, login, activity, username):
    client = login(username)
    assert _box(client, activity)
    response = client.post(f"/approvals/Activity/{activity}/comment", {"comment": "请补充预算明细"})
    assert response.status_code == 303
    assert _comments(app, activity) == ["请补充预算明细"]


def test_nobody_comments_before_the_document_is_submitted(app, login):
    client = login("market1")
    _new(client, theme="还没提交的活动")
    with app.app_context():
        activity_id = db.session.scalar(
            select(Activity.id).where(Activity.theme == "还没提交的活动")
        )
    assert not _box(client, activity_id)
    response = client.post(f"/approvals/Activity/{activity_id}/comment", {"comment": "早了"})
    assert response.status_code == 403
    assert _comments(app, activity_id) == []


def test_who_may_comment_follows_the_engine_rule(app, demo, activity):
    from mktapp.core import approvals as engine
    from mktapp.models import User

    with app.app_context():
        doc = db.session.get(Activity, activity)
        allowed = {
            name
            for name in ("market1", "manager", "boss", "sales1", "finance1", "admin")
            if engine.may_comment(db.session.get(User, demo[name]), doc)
        }
    assert allowed == {"market1", "manager", "boss"}
