"""The audit log is written by the database layer: inserts, updates, archive, roles, secrets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from flask_login import login_user
from sqlalchemy import select

from mktapp.core import audit
from mktapp.core.audit_display import audit_history, field_label, humanise, present
from mktapp.extensions import db
from mktapp.models import AuditLog, Role, TrainingRecord, User, utcnow


def _entries(record_type: str, record_id: int) -> list[AuditLog]:
    return list(
        db.session.scalars(
            select(AuditLog)
            .where(AuditLog.record_type == record_type, AuditLog.record_id == record_id)
            .order_by(AuditLog.id)
        )
    )


@pytest.fixture
def ctx(app, demo):
    with app.test_request_context():
        yield demo


def _training(owner_id: int, **kw) -> TrainingRecord:
    record = TrainingRecord(
        owner_id=owner_id,
        course=kw.get("course", "大客户销售技巧"),
        taken_on=date(2024, 3, 8),
        hours=Decimal("8.0"),
        notes=kw.get("notes", ""),
    )
    db.session.add(record)
    db.session.commit()
    return record


def test_insert_is_logged_with_its_values_and_actor(ctx):
    with audit.acting_as(ctx["manager"]):
        record = _training(ctx["sales1"])
    [entry] = _entries("TrainingRecord", record.id)
    assert entry.action == "insert"
    assert entry.actor_id == ctx["manager"]
    assert entry.record_label == "大客户销售技巧"
    assert entry.changes["course"] == [None, "大客户销售技巧"]
    assert entry.changes["hours"] == [None, "8.0"]
    assert entry.changes["owner_id"] == [None, ctx["sales1"]]
    assert "created_at" not in entry.changes and "id" not in entry.changes


def test_update_records_each_changed_field_from_and_to(ctx):
    record = _training(ctx["sales1"])
    record.hours = Decimal("12.5")
    record.result = "合格"
    record.course = record.course  # unchanged values are not logged
    db.session.commit()
    entry = _entries("TrainingRecord", record.id)[-1]
    assert entry.action == "update"
    assert entry.changes == {"hours": ["8.0", "12.5"], "result": ["", "合格"]}


def test_a_flush_without_real_changes_writes_nothing(ctx):
    record = _training(ctx["sales1"])
    before = len(_entries("TrainingRecord", record.id))
    record.course = "大客户销售技巧"
    db.session.commit()
    assert len(_entries("TrainingRecord", record.id)) == before


def test_archive_and_restore_show_as_such(ctx):
    record = _training(ctx["sales1"])
    record.archived_at = utcnow()
    db.session.commit()
    record.archived_at = None
    db.session.commit()
    actions = [e.action for e in _entries("TrainingRecord", record.id)]
    assert actions == ["insert", "archive", "restore"]


def test_role_changes_are_logged_as_before_and_after_sets(ctx):
    user = db.session.get(User, ctx["sales1"])
    finance = db.session.scalar(select(Role).where(Role.code == "finance"))
    user.roles = [*user.roles, finance]
    db.session.commit()
    entry = _entries("User", user.id)[-1]
    assert entry.action == "update"
    assert entry.changes == {"roles": [["sales_rep"], ["finance", "sales_rep"]]}
    user.roles = [finance]
    db.session.commit()
    assert _entries("User", user.id)[-1].changes == {
        "roles": [["finance", "sales_rep"], ["finance"]]
    }


def test_password_hashes_and_login_times_are_never_logged(ctx):
    user = db.session.get(User, ctx["sales2"])
    count = len(_entries("User", user.id))
    user.password_hash = "pbkdf2:sha256:1000$new$hash"
    user.last_login_at = utcnow()
    db.session.commit()
    assert len(_entries("User", user.id)) == count
    user.password_hash = "another"
    user.phone = "139-0000-0000"
    db.session.commit()
    entry = _entries("User", user.id)[-1]
    assert set(entry.changes) == {"phone"}
    # Not even at creation.
    for row in db.session.scalars(select(AuditLog).where(AuditLog.record_type == "User")):
        assert "password_hash" not in row.changes
        assert "hash" not in str(row.changes).lower()


def test_secret_looking_columns_are_excluded_whatever_the_model_says():
    assert audit.SECRET_NAME.search("password_hash")
    assert audit.SECRET_NAME.search("api_token")
    assert audit.SECRET_NAME.search("client_secret")
    assert not audit.SECRET_NAME.search("sha256")
    assert not audit.SECRET_NAME.search("hashtag_count")


def test_actor_comes_from_the_signed_in_user_of_the_request(app, demo):
    with app.test_request_context():
        login_user(db.session.get(User, demo["market1"]))
        record = _training(demo["market1"])
        [entry] = _entries("TrainingRecord", record.id)
        assert entry.actor_id == demo["market1"]


def test_acting_as_overrides_the_request_user_and_adds_a_note(app, demo):
    with app.test_request_context():
        login_user(db.session.get(User, demo["market1"]))
        with audit.acting_as(None, note="夜间任务"):
            record = _training(demo["market1"])
        [entry] = _entries("TrainingRecord", record.id)
        assert entry.actor_id is None
        assert entry.note == "夜间任务"


def test_noting_attaches_a_note_to_changes_inside(ctx):
    record = _training(ctx["sales1"])
    with audit.acting_as(ctx["manager"]), audit.noting("交接：sales1 → sales2"):
        record.owner_id = ctx["sales2"]
        db.session.commit()
    entry = _entries("TrainingRecord", record.id)[-1]
    assert entry.note == "交接：sales1 → sales2"
    assert entry.changes == {"owner_id": [ctx["sales1"], ctx["sales2"]]}


def test_log_writes_an_entry_for_events_that_are_not_column_changes(ctx):
    record = _training(ctx["sales1"])
    with audit.acting_as(ctx["sales1"]):
        audit.log(record, "attach", {"filename": [None, "证书.pdf"]})
    db.session.commit()
    entry = _entries("TrainingRecord", record.id)[-1]
    assert (entry.action, entry.actor_id) == ("attach", ctx["sales1"])
    assert entry.changes == {"filename": [None, "证书.pdf"]}


def test_history_reads_newest_first_with_readable_fields_and_names(ctx):
    with audit.acting_as(ctx["manager"]):
        record = _training(ctx["sales1"], notes="第一行\n" + "很长的说明" * 30)
        record.owner_id = ctx["sales2"]
        record.hours = Decimal("9.5")
        db.session.commit()
    entries = audit_history(record)
    assert [e.action for e in entries] == ["update", "insert"]
    latest = entries[0]
    assert latest.actor == db.session.get(User, ctx["manager"]).display_name
    owner = next(c for c in latest.changes if c.key == "owner_id")
    assert owner.label == "Owner"
    assert owner.before.text == db.session.get(User, ctx["sales1"]).display_name
    assert owner.after.text == db.session.get(User, ctx["sales2"]).display_name
    notes = next(c for c in entries[1].changes if c.key == "notes")
    assert notes.after.long and notes.after.short.endswith("…")
    assert notes.after.text.startswith("第一行\n很长的说明")
    empty = present([_entries("TrainingRecord", record.id)[0]])[0]
    assert empty.action_label == "Created"


def test_field_names_are_humanised():
    assert humanise("TrainingRecord") == "Training record"
    assert humanise("taken_on") == "Taken on"
    assert humanise("customer_id") == "Customer"
    assert field_label("Nothing", "due_amount") == "Due amount"
