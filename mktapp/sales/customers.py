"""Customers and leads (P4.1 step 1): 客户, 联系人, duplicates, merge, hand-off, the list.

Services take the acting user and plain data and raise CustomerError (with the field
it concerns) for the route to show; they never touch the request. A customer's
name_key and its contacts' phone_key are kept here, so duplicate checks are one
indexed lookup.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from math import ceil
from typing import NamedTuple

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import joinedload, lazyload

from mktapp.core import audit, clock, vocab
from mktapp.core.audit_display import describe
from mktapp.core.errors import DomainError
from mktapp.core.lists import (
    Cached,
    Column,
    Filter,
    ListPage,
    ListSpec,
    contains,
    flag,
    integer,
    one_of,
)
from mktapp.core.notify import notify
from mktapp.core.permissions import can, group_member_ids, visible
from mktapp.core.phones import normalize_phone, phone_problem
from mktapp.core.requests import INT_MAX
from mktapp.extensions import db
from mktapp.models import Activity, Role, User, utcnow
from mktapp.models.sales import (
    COMPANY_SIZES,
    CUSTOMER_GRADES,
    CUSTOMER_KINDS,
    CUSTOMER_STATUSES,
    LEAD_SOURCES,
    Contact,
    Customer,
)

# The words of a customer's coded fields (the codes and labels are the model's).
STATUSES = CUSTOMER_STATUSES
SOURCES = LEAD_SOURCES
KINDS = CUSTOMER_KINDS
SIZES = COMPANY_SIZES

# Legal-form endings left out when names are compared ("华为技术有限公司" = "华为技术").
NAME_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "公司",
    "corporation",
    "company",
    "limited",
    "coltd",
    "corp",
    "ltd",
    "inc",
    "llc",
    "co",
)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)

# Provinces (for the region filter and the import's check); cities are free text.
PROVINCES = (
    "北京",
    "天津",
    "上海",
    "重庆",
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "台湾",
    "内蒙古",
    "广西",
    "西藏",
    "宁夏",
    "新疆",
    "香港",
    "澳门",
)


class CustomerError(DomainError):
    """Something asked of a customer that cannot be done; str() is the message."""


class DuplicateFound(CustomerError):
    """The customer looks like one that exists; the user may confirm "create anyway"."""

    def __init__(self, matches: list[Customer]):
        super().__init__(_("A customer with this name or phone number exists already."), "name")
        self.matches = matches


# --- keys ---------------------------------------------------------------------------------


def name_key(name: str) -> str:
    """The name folded for duplicate checks: full-width to half-width, lower case, no spaces
    or punctuation, legal-form endings (有限公司, Co., Ltd. ...) removed."""
    text = unicodedata.normalize("NFKC", name or "").lower()
    text = _NOT_WORD.sub("", text)
    changed = True
    while changed and text:
        changed = False
        for suffix in NAME_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                changed = True
                break
    return text[:200]


def phone_key(phone: str) -> str:
    """Digits only, without China's +86 / 0086 prefix on a mobile number."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", phone or "") if ch.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
    return digits[:40]


# --- who may do what ------------------------------------------------------------------------


def is_assigner(user: User) -> bool:
    """The marketing manager and market specialists hand leads out (sales.assign)."""
    return can(user, "sales.assign")


def may_edit(user: User, customer: Customer) -> bool:
    """Who may change a customer: its owner, the 业务组 leader for the group's, and those who
    hand out leads (manager, market specialists). A pool customer is claimed first."""
    if not can(user, "sales.edit") or customer.is_archived:
        return False
    if is_assigner(user) or customer.owner_id == user.id:
        return True
    return bool(
        user.leads_group is not None
        and customer.owner is not None
        and customer.owner.group_id == user.group_id
    )


def may_claim(user: User, customer: Customer) -> bool:
    return (
        customer.owner_id is None
        and not customer.is_archived
        and "sales_rep" in user.role_codes
        and can(user, "sales.edit")
    )


def may_release(user: User, customer: Customer) -> bool:
    return customer.owner_id is not None and not customer.is_archived and may_edit(user, customer)


def may_assign(user: User, customer: Customer) -> bool:
    """Hand a customer to a rep: those with sales.assign, and the 业务组 leader for the group."""
    if customer.is_archived:
        return False
    return is_assigner(user) or (user.leads_group is not None and may_edit(user, customer))


def assignable_reps(user: User) -> list:
    """The conditions on User of the sales reps this user may hand customers to (also
    the "sales_reps" picker source)."""

    conditions = [User.roles.any(Role.code == "sales_rep"), User.active.is_(True)]
    if not is_assigner(user):
        conditions.append(User.id.in_(group_member_ids(user)))
    return conditions


def owner_choices(user: User) -> list[tuple[int, str]]:
    """The sales reps this user may hand customers to (one query)."""
    stmt = (
        select(User.id, User.display_name).where(*assignable_reps(user)).order_by(User.display_name)
    )
    return [(uid, name) for uid, name in db.session.execute(stmt)]


# --- input ----------------------------------------------------------------------------------


@dataclass
class CustomerInput:
    name: str
    kind: str = "company"
    industry: str = ""
    size: str = ""
    province: str = ""
    city: str = ""
    address: str = ""
    grade: str = "C"
    status: str = "potential"
    source: str = "other"
    source_detail: str = ""
    notes: str = ""
    owner_id: int | None = None
    # When the source is a market activity: which one (brand chapter).
    source_activity_id: int | None = None


@dataclass
class ContactInput:
    name: str
    title: str = ""
    phone: str = ""
    email: str = ""
    wechat: str = ""
    is_primary: bool = False


def _check(data: CustomerInput) -> None:
    if not (data.name or "").strip():
        raise CustomerError(_("Enter the customer's name."), "name")
    if not name_key(data.name):
        raise CustomerError(_("The name needs at least one letter or digit."), "name")
    for value, choices, name in (
        (data.kind, CUSTOMER_KINDS, "kind"),
        (data.grade, CUSTOMER_GRADES, "grade"),
        (data.status, CUSTOMER_STATUSES, "status"),
        (data.source, LEAD_SOURCES, "source"),
    ):
        if value not in choices:
            raise CustomerError(_("Choose a value from the list."), name)
    if data.size and data.size not in COMPANY_SIZES:
        raise CustomerError(_("Choose a value from the list."), "size")


# --- the source activity (brand chapter) ---------------------------------------------------------

# Activities offered as a lead's source: approved or later, ended within the last year.
SOURCE_ACTIVITY_STATUSES = ("approved", "running", "ended", "evaluated")
SOURCE_ACTIVITY_DAYS = 365


def source_activity_choices(
    user: User, today: date, current: int | None = None
) -> list[tuple[int, str]]:
    """(id, "number theme") of recent activities the user sees (and the current one)."""

    recent = (Activity.status.in_(SOURCE_ACTIVITY_STATUSES)) & (
        Activity.end_on >= today - timedelta(days=SOURCE_ACTIVITY_DAYS)
    )
    stmt = (
        visible(select(Activity.id, Activity.number, Activity.theme), user, Activity)
        .where(Activity.archived_at.is_(None), or_(recent, Activity.id == (current or 0)))
        .order_by(Activity.start_on.desc(), Activity.id.desc())
        .limit(200)
    )
    return [(aid, f"{number} {theme}") for aid, number, theme in db.session.execute(stmt)]


def _check_source_activity(
    user: User, data: CustomerInput, current: int | None, today: date | None = None
) -> int | None:
    """The source activity to store: only with source "activity", one of the choices."""
    if data.source != "activity" or not data.source_activity_id:
        return None
    if data.source_activity_id == current:
        return current
    if today is None:
        today = clock.today()
    allowed = {aid for aid, _label in source_activity_choices(user, today)}
    if data.source_activity_id not in allowed:
        raise CustomerError(
            _("Choose a market activity from the list (approved, within the last 12 months)."),
            "source_activity_id",
        )
    return data.source_activity_id


def source_activity_of(user: User, customer: Customer):
    """The market activity a customer came from, if the user may see it."""
    if not customer.source_activity_id:
        return None

    return db.session.scalar(
        visible(select(Activity), user, Activity).where(Activity.id == customer.source_activity_id)
    )


def _apply(customer: Customer, data: CustomerInput) -> None:
    customer.name = data.name.strip()
    customer.name_key = name_key(data.name)
    customer.kind = data.kind
    customer.industry = data.industry.strip()
    customer.size = data.size if data.kind == "company" else ""
    customer.province = data.province.strip()
    customer.city = data.city.strip()
    customer.address = data.address.strip()
    customer.grade = data.grade
    customer.status = data.status
    customer.source = data.source
    customer.source_detail = data.source_detail.strip()
    customer.notes = data.notes.strip()


# --- duplicates -------------------------------------------------------------------------------


def find_duplicates(
    name: str, phones: list[str] = (), exclude_id: int | None = None, limit: int = 5
) -> list[Customer]:
    """Customers (not archived) whose folded name or a contact's phone matches (one query)."""
    key = name_key(name)
    phone_keys = sorted({k for k in (phone_key(p) for p in phones) if len(k) >= 6})
    conditions = [Customer.name_key == key] if key else []
    if phone_keys:
        conditions.append(
            Customer.id.in_(select(Contact.customer_id).where(Contact.phone_key.in_(phone_keys)))
        )
    if not conditions:
        return []
    stmt = (
        select(Customer)
        .options(lazyload(Customer.owner))
        .where(or_(*conditions), Customer.archived_at.is_(None))
        .order_by(Customer.id)
        .limit(limit)
    )
    if exclude_id is not None:
        stmt = stmt.where(Customer.id != exclude_id)
    return list(db.session.scalars(stmt))


def load_visible(user: User, customer_id: int) -> Customer | None:
    """One customer this user may see, with contacts, owner and creator (one query)."""
    return (
        db.session.scalars(
            visible(select(Customer).where(Customer.id == customer_id), user, Customer).options(
                joinedload(Customer.contacts),
                joinedload(Customer.owner).lazyload("*"),
                joinedload(Customer.created_by).lazyload("*"),
            )
        )
        .unique()
        .first()
    )


# --- create, change, archive --------------------------------------------------------------------


def create_customer(
    user: User,
    data: CustomerInput,
    contact: ContactInput | None = None,
    confirm_duplicate: bool = False,
) -> Customer:
    """A new customer (and its first contact). A rep's own customer; a market specialist's or
    manager's goes to the owner chosen, or to the pool."""
    if not can(user, "sales.edit"):
        raise CustomerError(_("You may not add customers."), status=403)
    _check(data)
    source_activity = _check_source_activity(user, data, None)
    if not confirm_duplicate:
        matches = find_duplicates(data.name, [contact.phone] if contact else [])
        if matches:
            raise DuplicateFound(matches)
    customer = Customer(created_by_id=user.id)
    _apply(customer, data)
    customer.source_activity_id = source_activity
    if is_assigner(user):
        customer.owner_id = data.owner_id
    else:
        customer.owner_id = user.id
    if customer.owner_id is not None:
        customer.assigned_at = utcnow()
    db.session.add(customer)
    if contact is not None and contact.name.strip():
        add_contact(user, customer, ContactInput(**{**contact.__dict__, "is_primary": True}))
    db.session.flush()
    if customer.owner_id not in (None, user.id):
        _tell_owner(customer)
    return customer


def update_customer(
    user: User, customer: Customer, data: CustomerInput, confirm_duplicate: bool = False
) -> Customer:
    if not may_edit(user, customer):
        raise CustomerError(_("You may not change this customer."), status=403)
    _check(data)
    source_activity = _check_source_activity(user, data, customer.source_activity_id)
    if not confirm_duplicate and name_key(data.name) != customer.name_key:
        matches = find_duplicates(data.name, exclude_id=customer.id)
        if matches:
            raise DuplicateFound(matches)
    _apply(customer, data)
    customer.source_activity_id = source_activity
    return customer


def archive_customer(user: User, customer: Customer) -> None:
    if not may_edit(user, customer):
        raise CustomerError(_("You may not archive this customer."), status=403)
    customer.archived_at = utcnow()


def restore_customer(user: User, customer: Customer) -> None:
    if not is_assigner(user):
        raise CustomerError(_("You may not restore this customer."), status=403)
    if customer.merged_into_id is not None:
        raise CustomerError(_("A customer merged into another cannot be restored."))
    customer.archived_at = None


# --- contacts -------------------------------------------------------------------------------------


def _check_contact(data: ContactInput) -> None:
    if not data.name.strip():
        raise CustomerError(_("Enter the contact's name."), "name")
    problem = phone_problem(data.phone)
    if problem:
        raise CustomerError(problem, "phone")
    if data.email.strip() and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", data.email.strip()):
        raise CustomerError(_("Enter an e-mail address like name@example.com."), "email")


def add_contact(user: User, customer: Customer, data: ContactInput) -> Contact:
    _check_contact(data)
    contact = Contact()
    with db.session.no_autoflush:
        customer.contacts.append(contact)
        _apply_contact(customer, contact, data)
    db.session.add(contact)
    return contact


def update_contact(user: User, contact: Contact, data: ContactInput) -> Contact:
    _check_contact(data)
    _apply_contact(contact.customer, contact, data)
    return contact


def _apply_contact(customer: Customer, contact: Contact, data: ContactInput) -> None:
    contact.name = data.name.strip()
    contact.title = data.title.strip()
    contact.phone = normalize_phone(data.phone)  # checked in _check_contact
    contact.phone_key = phone_key(contact.phone)
    contact.email = data.email.strip()
    contact.wechat = data.wechat.strip()
    if data.is_primary:
        for other in customer.contacts:
            if other is not contact and other.is_primary:
                other.is_primary = False
    contact.is_primary = data.is_primary or not any(
        c.is_primary for c in customer.contacts if c is not contact
    )


# --- hand-off: assign, release, claim ------------------------------------------------------------


def _tell_owner(customer: Customer) -> None:

    owner = db.session.get(User, customer.owner_id)
    if owner is None:
        return
    notify(
        owner,
        _("New customer for you: %(name)s", name=customer.name),
        body=_(
            "%(name)s (%(source)s) has been handed to you. Contact them and record the follow-up.",
            name=customer.name,
            source=SOURCES.label(customer.source),
        ),
        url=url_for("sales.customer", customer_id=customer.id),
    )


def assign(user: User, customer: Customer, owner_id: int) -> None:
    """Hand a customer to a sales rep, who is notified."""
    if not may_assign(user, customer):
        raise CustomerError(_("You may not hand this customer to someone."), status=403)
    allowed = dict(owner_choices(user))
    if owner_id not in allowed:
        raise CustomerError(_("Choose a sales rep from the list."), "owner_id")
    if customer.owner_id == owner_id:
        return
    customer.owner_id = owner_id
    customer.assigned_at = utcnow()
    db.session.flush()
    _tell_owner(customer)


def release(user: User, customer: Customer) -> None:
    """Give a customer back to the shared pool (no owner)."""
    if not may_release(user, customer):
        raise CustomerError(_("You may not release this customer."), status=403)
    customer.owner_id = None
    customer.assigned_at = None


def taken_from_under(user: User, customer_id: int) -> bool:
    """A customer this rep could take a moment ago that another has taken since: it
    exists, is not archived, has an owner, and is no longer one the rep may see."""
    customer = db.session.get(Customer, customer_id) if 0 < customer_id <= INT_MAX else None
    return (
        customer is not None
        and customer.owner_id is not None
        and not customer.is_archived
        and load_visible(user, customer_id) is None
    )


def claim(user: User, customer: Customer) -> None:
    """A rep takes a customer from the pool."""
    if not may_claim(user, customer):
        taken = customer.owner_id is not None  # by someone else, a moment before: a lost race
        raise CustomerError(
            _("This customer is not in the pool any more."), status=409 if taken else 422
        )
    customer.owner_id = user.id
    customer.assigned_at = utcnow()


# --- merge -------------------------------------------------------------------------------------------

FILLABLE = ("industry", "size", "province", "city", "address", "source_detail", "notes")


def customer_id_columns() -> list:
    """Every column named customer_id in the schema (contacts, follow-ups, opportunities,
    contracts ... whatever a chapter adds), found through the metadata."""
    return [
        table.c.customer_id
        for table in db.metadata.sorted_tables
        if "customer_id" in table.c and table.name != "customers"
    ]


def merge(user: User, survivor: Customer, loser: Customer) -> dict[str, int]:
    """Move every record of `loser` to `survivor`, fill the survivor's empty fields from the
    loser, and archive the loser (merged_into_id). Returns {table: rows moved}."""
    if not can(user, "sales.merge"):
        raise CustomerError(_("You may not merge customers."), status=403)
    if survivor.id == loser.id:
        raise CustomerError(_("Choose two different customers."), "other_id")
    if survivor.is_archived or loser.is_archived:
        raise CustomerError(_("Archived customers cannot be merged."), "other_id")
    moved: dict[str, int] = {}
    if any(c.is_primary for c in survivor.contacts):
        db.session.execute(
            update(Contact).where(Contact.customer_id == loser.id).values(is_primary=False)
        )
    for column in customer_id_columns():
        result = db.session.execute(
            update(column.table).where(column == loser.id).values(customer_id=survivor.id)
        )
        if result.rowcount:
            moved[column.table.name] = result.rowcount
    # Customers merged into the loser earlier now point at the survivor.
    db.session.execute(
        update(Customer)
        .where(Customer.merged_into_id == loser.id)
        .values(merged_into_id=survivor.id)
    )
    for name in FILLABLE:
        if not getattr(survivor, name) and getattr(loser, name):
            setattr(survivor, name, getattr(loser, name))
    if survivor.owner_id is None and loser.owner_id is not None:
        survivor.owner_id = loser.owner_id
    loser.merged_into_id = survivor.id
    loser.archived_at = utcnow()
    db.session.flush()
    audit.log(
        survivor,
        "merge",
        {"merged": [loser.name, survivor.name], **{t: [0, n] for t, n in moved.items()}},
        note=_("%(loser)s merged into %(survivor)s", loser=loser.name, survivor=survivor.name),
    )
    db.session.expire_all()
    return moved


# --- the list ----------------------------------------------------------------------------------------

VIEWS = ("all", "mine", "pool")


class CustomerRow(NamedTuple):
    """A row of the export: the customer and its primary contact."""

    customer: Customer
    contact: Contact | None


def _of_contact(name: str):
    return lambda row: getattr(row.contact, name) if row.contact else ""


_province = one_of(*PROVINCES)

# The columns' values read a CustomerRow (the export's rows); the table's cells are the
# template's own.
CUSTOMERS = ListSpec(
    "customer",
    [
        Column("name", _l("Customer"), sort=Customer.name, export=False),
        Column("export_name", _l("Name"), lambda r: r.customer.name, screen=False),
        Column("kind", _l("Kind"), lambda r: KINDS.label(r.customer.kind), screen=False),
        Column("industry", _l("Industry"), lambda r: r.customer.industry, screen=False),
        Column("contact", _l("Contact"), _of_contact("name")),
        Column("phone", _l("Phone"), _of_contact("phone"), screen=False),
        Column("email", _l("E-mail"), _of_contact("email"), screen=False),
        Column("wechat", _l("WeChat"), _of_contact("wechat"), screen=False),
        Column("region", _l("Region"), export=False),
        Column("province", _l("Province"), lambda r: r.customer.province, screen=False),
        Column("city", _l("City"), lambda r: r.customer.city, screen=False),
        Column("grade", _l("Grade"), lambda r: r.customer.grade, sort=Customer.grade),
        Column("status", _l("Status"), lambda r: STATUSES.label(r.customer.status)),
        Column("source", _l("Lead source"), lambda r: SOURCES.label(r.customer.source)),
        Column(
            "source_detail", _l("Source detail"), lambda r: r.customer.source_detail, screen=False
        ),
        Column(
            "owner",
            _l("Owner"),
            lambda r: r.customer.owner.display_name if r.customer.owner else _("Pool"),
        ),
        Column(
            "created",
            _l("Created"),
            lambda r: r.customer.created_at,
            sort=Customer.created_at,
            screen=False,
        ),
        Column("updated", _l("Updated"), lambda r: r.customer.updated_at, sort=Customer.updated_at),
    ],
    filters=[
        Filter("owner", integer, default=None),
        Filter("grade", one_of(*CUSTOMER_GRADES)),
        Filter("source", one_of(*LEAD_SOURCES)),
        Filter("status", one_of(*CUSTOMER_STATUSES)),
        Filter("province", lambda raw: _province(raw.strip())),
        Filter("archived", flag, default=False),
    ],
    default_sort="updated",
    default_dir="desc",
    tie=Customer.id,
    # The rows, kept rendered until a customer, a contact or a person changes (bench/
    # sales.py: 0.56 of a bare page with the cache, 0.18 without).
    cache=Cached(depends=("customers", "people"), rules=(Customer,)),
)
CustomerQuery = CUSTOMERS.Query

# Past this many customers the list says "more than 10,000" instead of counting them all.
COUNT_CAP = 10_000


@dataclass
class CustomerPage(ListPage):
    """A page of the customer list, which the kit's ListSpec.page cannot make: that one
    counts every match, and a list of 100,000 customers must stay quick. This one counts
    up to COUNT_CAP (`estimated` past it, `total` then the cap), reads one row more than
    the page to know whether there is a next one (`has_more`), and is not clamped to the
    last page. `primary`: each row's primary contact."""

    has_more: bool = False
    primary: dict[int, Contact] = field(default_factory=dict)
    estimated: bool = False

    @property
    def pages(self) -> int:
        counted = max(1, ceil(self.total / self.page_size))
        if self.estimated:  # the last page is not known: link one past this one
            return max(counted, self.page + (1 if self.has_more else 0))
        return counted

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.page_size + 1

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.rows) - 1


def _filtered(user: User, query, view: str):
    stmt = visible(select(Customer), user, Customer)
    if query.archived:
        stmt = stmt.where(Customer.archived_at.is_not(None))
    else:
        stmt = stmt.where(Customer.archived_at.is_(None))
    if view == "mine":
        stmt = stmt.where(Customer.owner_id == user.id)
    elif view == "pool":
        stmt = stmt.where(Customer.owner_id.is_(None))
    elif query.owner:
        stmt = stmt.where(Customer.owner_id == query.owner)
    for column, value in (
        (Customer.grade, query.grade),
        (Customer.source, query.source),
        (Customer.status, query.status),
        (Customer.province, query.province),
    ):
        if value:
            stmt = stmt.where(column == value)
    if query.q:
        conditions = [
            contains(query.q, Customer.name),
            Customer.id.in_(select(Contact.customer_id).where(contains(query.q, Contact.name))),
        ]
        key = name_key(query.q)
        if key:
            conditions.append(Customer.name_key.like(f"%{key}%"))
        digits = phone_key(query.q)
        if len(digits) >= 4:
            conditions.append(
                Customer.id.in_(
                    select(Contact.customer_id).where(Contact.phone_key.like(f"%{digits}%"))
                )
            )
        stmt = stmt.where(or_(*conditions))
    return stmt


def count_customers(stmt) -> tuple[int, bool]:
    """How many rows `stmt` selects, counted up to COUNT_CAP: (count, more than the cap)."""
    capped = stmt.order_by(None).with_only_columns(Customer.id).limit(COUNT_CAP + 1)
    n = db.session.scalar(select(func.count()).select_from(capped.subquery())) or 0
    return min(n, COUNT_CAP), n > COUNT_CAP


def _primary_contacts(ids: list[int]) -> dict[int, Contact]:
    """Each customer's primary contact (or its first), 500 customers a query."""
    primary: dict[int, Contact] = {}
    for start in range(0, len(ids), 500):
        for contact in db.session.scalars(
            select(Contact)
            .where(Contact.customer_id.in_(ids[start : start + 500]))
            .order_by(Contact.is_primary.desc(), Contact.id)
        ):
            primary.setdefault(contact.customer_id, contact)
    return primary


def list_customers(user: User, query, page_size: int, view: str = "all") -> CustomerPage:
    """One page of the customers this user may see, and how many there are (three queries:
    the count, capped at COUNT_CAP so a huge list stays quick; the rows with their owners;
    their primary contacts). One row more than the page says whether there is a next page."""
    filtered = _filtered(user, query, view)
    total, estimated = count_customers(filtered)
    stmt = (
        CUSTOMERS.ordered(filtered, query)
        .options(joinedload(Customer.owner).lazyload("*"))
        .limit(page_size + 1)
        .offset((query.page - 1) * page_size)
    )
    rows = list(db.session.scalars(stmt).unique())
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    primary = _primary_contacts([c.id for c in rows])
    return CustomerPage(rows, total, query.page, page_size, {}, has_more, primary, estimated)


def export_rows(user: User, query, view: str = "all", limit: int = 100_000) -> list[CustomerRow]:
    """The filtered list (every page), each customer with its primary contact."""
    stmt = _filtered(user, query, view).options(joinedload(Customer.owner).lazyload("*"))
    rows = CUSTOMERS.export_rows(stmt, query, limit)
    primary = _primary_contacts([c.id for c in rows])
    return [CustomerRow(c, primary.get(c.id)) for c in rows]


def filter_owners(user: User) -> list:
    """The conditions on User of the owners to filter the customer list by: the reps this
    user may see customers of (the "customer_owners" picker source)."""

    conditions = [User.roles.any(Role.code == "sales_rep")]
    if not is_assigner(user) and not (user.role_codes & {"executive", "service_agent"}):
        if user.leads_group is not None:
            conditions.append(User.id.in_(group_member_ids(user)))
        else:
            conditions.append(User.id == user.id)
    return conditions


def merge_candidates(customer: Customer, limit: int = 20) -> list[Customer]:
    """Likely duplicates of a customer first (same folded name or phone), for the merge form."""
    phones = [c.phone for c in customer.contacts if c.phone]
    return find_duplicates(customer.name, phones, exclude_id=customer.id, limit=limit)


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    vocab.expose(app, STATUSES, SOURCES, KINDS, SIZES)
    describe(
        "Customer",
        _l("Customer"),
        fields={
            "name": _l("Name"),
            "kind": _l("Kind"),
            "industry": _l("Industry"),
            "size": _l("Company size"),
            "province": _l("Province"),
            "city": _l("City"),
            "address": _l("Address"),
            "grade": _l("Grade"),
            "status": _l("Status"),
            "source": _l("Lead source"),
            "source_detail": _l("Source detail"),
            "source_activity_id": _l("Source activity"),
            "owner_id": _l("Owner"),
            "notes": _l("Notes"),
            "merged_into_id": _l("Merged into"),
            "assigned_at": _l("Assigned"),
            "name_key": _l("Name for duplicate checks"),
            "merged": _l("Merged customer"),  # merge(): the loser's name -> the survivor's
        },
        refs={"source_activity_id": "Activity"},
        values={
            "kind": KINDS.label,
            "status": STATUSES.label,
            "source": SOURCES.label,
            "size": SIZES.label,
        },
    )
    describe(
        "Contact",
        _l("Contact"),
        fields={
            "name": _l("Name"),
            "title": _l("Job title"),
            "phone": _l("Phone"),
            "email": _l("E-mail"),
            "wechat": _l("WeChat"),
            "is_primary": _l("Primary contact"),
            "customer_id": _l("Customer"),
            "phone_key": _l("Phone for duplicate checks"),
        },
    )
    audit.describe_action("merge", _l("Merged"))
    audit.describe_action("assign", _l("Assigned"))
