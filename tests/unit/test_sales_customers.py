"""Customer services (P4.1): name folding, phone keys, duplicates, merge, hand-off."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, ForeignKey, Integer, Table, func, select

from mktapp.extensions import db
from mktapp.models import AuditLog, Notification, User
from mktapp.models.sales import Contact, Customer, Interaction, Opportunity
from mktapp.sales import customers as svc


def user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("华为技术有限公司", "华为技术"),
        ("上海 恒通（精密）机械股份有限公司", "上海恒通精密机械"),
        ("ＡＢＣ Trading Co., Ltd.", "abc trading"),
        ("Acme Inc.", "ACME"),
        ("杭州鼎信信息技术有限责任公司", "杭州鼎信信息技术公司"),
    ],
)
def test_name_key_folds_case_spaces_punctuation_and_legal_suffixes(a, b):
    assert svc.name_key(a) == svc.name_key(b)


def test_name_key_keeps_a_name_that_is_only_a_suffix():
    assert svc.name_key("公司") == "公司"


def test_phone_key_is_digits_without_country_prefix():
    assert svc.phone_key("+86 138-0013-8000") == "13800138000"
    assert svc.phone_key("0086 13800138000") == "13800138000"
    assert svc.phone_key("(021) 6888-1234") == "02168881234"


def test_find_duplicates_by_name_or_phone(app_ctx, demo):
    owner = user("sales1")
    a = svc.create_customer(
        owner,
        svc.CustomerInput(name="济南明德教育科技有限公司", source="web"),
        svc.ContactInput(name="高磊", phone="13912345678"),
    )
    db.session.flush()
    assert [c.id for c in svc.find_duplicates("济南明德教育科技")] == [a.id]
    assert [c.id for c in svc.find_duplicates("别的名字", ["+86 139 1234 5678"])] == [a.id]
    assert svc.find_duplicates("济南明德教育科技", exclude_id=a.id) == []
    with pytest.raises(svc.DuplicateFound) as found:
        svc.create_customer(owner, svc.CustomerInput(name="济南明德教育科技公司", source="web"))
    assert found.value.matches[0].id == a.id


def test_rep_creates_own_customer_specialist_may_leave_it_in_pool(app_ctx, demo):
    mine = svc.create_customer(
        user("sales1"), svc.CustomerInput(name="福州银河物流有限公司", owner_id=None)
    )
    pool = svc.create_customer(
        user("market1"), svc.CustomerInput(name="芜湖卓越建材有限公司", owner_id=None)
    )
    assert mine.owner_id == demo["sales1"]
    assert pool.owner_id is None


def test_assign_notifies_and_is_audited(app_ctx, demo):
    lead = svc.create_customer(user("market1"), svc.CustomerInput(name="佛山锦程商贸有限公司"))
    db.session.commit()
    svc.assign(user("market1"), lead, demo["sales2"])
    db.session.commit()
    assert lead.owner_id == demo["sales2"] and lead.assigned_at is not None
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == demo["sales2"])
        )
        >= 1
    )
    actions = db.session.scalars(
        select(AuditLog.action).where(
            AuditLog.record_type == "Customer", AuditLog.record_id == lead.id
        )
    ).all()
    assert "update" in actions


def test_rep_may_not_assign_but_may_claim_and_release(app_ctx, demo):
    lead = svc.create_customer(user("market1"), svc.CustomerInput(name="绵阳安泰电子有限公司"))
    with pytest.raises(svc.CustomerError):
        svc.assign(user("sales1"), lead, demo["sales2"])
    svc.claim(user("sales1"), lead)
    assert lead.owner_id == demo["sales1"]
    with pytest.raises(svc.CustomerError):
        svc.claim(user("sales2"), lead)
    svc.release(user("sales1"), lead)
    assert lead.owner_id is None


def test_merge_moves_every_record_with_a_customer_id_and_archives_the_loser(app_ctx, demo):
    rep = user("sales1")
    keep = svc.create_customer(
        rep,
        svc.CustomerInput(name="宜昌正泰电力有限公司"),
        svc.ContactInput(name="罗杰", phone="13600000001"),
    )
    dup = svc.create_customer(
        rep,
        svc.CustomerInput(name="宜昌正泰电力", city="宜昌", address="宜昌市高新区 8 号"),
        svc.ContactInput(name="罗杰", phone="13600000002"),
        confirm_duplicate=True,
    )
    db.session.flush()
    db.session.add(Interaction(customer_id=dup.id, owner_id=rep.id, kind="call", notes="电话"))
    db.session.add(Opportunity(customer_id=dup.id, owner_id=rep.id, title="变电设备改造"))
    db.session.commit()
    moved = svc.merge(user("manager"), keep, dup)
    db.session.commit()
    assert moved["contacts"] == 1 and moved["interactions"] == 1 and moved["opportunities"] == 1
    keep = db.session.get(Customer, keep.id)
    dup = db.session.get(Customer, dup.id)
    assert dup.merged_into_id == keep.id and dup.is_archived
    assert keep.city == "宜昌" and keep.address == "宜昌市高新区 8 号"
    assert len(keep.contacts) == 2 and sum(c.is_primary for c in keep.contacts) == 1
    assert db.session.scalar(
        select(AuditLog.action).where(
            AuditLog.record_type == "Customer",
            AuditLog.record_id == keep.id,
            AuditLog.action == "merge",
        )
    )


def test_merge_finds_customer_id_columns_of_tables_added_later(app_ctx):
    """A chapter's table with a customer_id column (contracts ...) joins the merge by itself."""
    metadata = db.metadata
    table = Table(
        "zz_test_contracts",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("customer_id", Integer, ForeignKey("customers.id")),
    )
    try:
        names = {c.table.name for c in svc.customer_id_columns()}
        assert {"contacts", "interactions", "opportunities", "zz_test_contracts"} <= names
    finally:
        metadata.remove(table)


def test_merge_needs_the_merge_permission(app_ctx, demo):
    rep = user("sales1")
    a = svc.create_customer(rep, svc.CustomerInput(name="甲公司名称"))
    b = svc.create_customer(rep, svc.CustomerInput(name="乙公司名称"))
    with pytest.raises(svc.CustomerError):
        svc.merge(rep, a, b)


def test_contact_rules(app_ctx, demo):
    rep = user("sales1")
    customer = svc.create_customer(rep, svc.CustomerInput(name="天津和信化工有限公司"))
    with pytest.raises(svc.CustomerError):
        svc.add_contact(rep, customer, svc.ContactInput(name="赵", email="bad"))
    first = svc.add_contact(rep, customer, svc.ContactInput(name="赵敏", phone="022-1234-5678"))
    second = svc.add_contact(rep, customer, svc.ContactInput(name="钱伟", is_primary=True))
    assert second.is_primary and not first.is_primary
    assert first.phone_key == "02212345678"
    assert isinstance(first, Contact)
