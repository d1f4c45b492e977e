"""The administrator sees no business data: the audit log shows an entry about a record
only to someone who may see that record (the record rules of core/permissions), so the
administrator reads the history of people, groups, posts, policy, training and settings
and his own actions; the manager and the executive read the business history; a sales
rep who may open the log reads the history of his own customers only.

Every audited record type is walked, as the audit registry lists them (a type added
later is checked without touching this file). The pages open to the administrator are
crawled too, with the addresses they fetch with htmx and the files they link: no
customer, opportunity, contract, claim, activity, budget or research record appears."""

from __future__ import annotations

import html
import io
import re
import zipfile
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from mktapp.core import audit, clock
from mktapp.core.audit_display import (
    AuditLogQuery,
    audited_types,
    entries_visible_to,
    model_class,
    search_log,
)
from mktapp.extensions import db
from mktapp.models import AuditLog, Role, User
from mktapp.models.sales import Contact, Customer
from tests.web.crawler import SKIP, crawl

EN = {"Accept-Language": "en"}

# What the administrator's work is about: the organisation and the system. Every other
# audited type is business data.
ADMIN_TYPES = {
    "User",
    "Group",
    "Post",
    "PolicyChapter",
    "PolicyVersion",
    "TrainingRecord",
    "Setting",
    # The working calendar and the after-sales routing and time limits (settings pages).
    "WorkHours",
    "CalendarDay",
    "ServiceDepartment",
    "TicketRoute",
    "SlaPolicy",
}


def probe(record_type: str) -> str:
    return f"PROBE[{record_type}]"


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def add_probes(app) -> set[str]:
    """One entry about a record of every audited type (besides the demo's own history),
    written by the system: an existing record, or for a type the demo has none of, one
    since deleted. Returns the types of the deleted ones."""
    deleted = set()
    with app.app_context():
        rows = []
        for record_type in audited_types():
            cls = model_class(record_type)
            record_id = db.session.scalar(select(func.min(cls.id)))
            if record_id is None:  # none in the demo: an entry about one since deleted
                record_id = 999_999
                deleted.add(record_type)
            rows.append(
                AuditLog(
                    at=clock.now(),
                    actor_id=None,
                    action="update",
                    record_type=record_type,
                    record_id=record_id,
                    record_label=probe(record_type),
                    changes={"notes": ["", probe(record_type)]},
                    note=probe(record_type),
                )
            )
        db.session.add_all(rows)
        db.session.commit()
    return deleted


def shows(client, record_type: str) -> bool:
    """Whether the audit view shows the probe entry of a type to this user."""
    response = client.get(
        "/audit/", query_string={"type": record_type, "q": probe(record_type)}, headers=EN
    )
    assert response.status_code in (200, 422), response.status_code
    rows = re.search(r"<tbody>.*?</tbody>", response.get_data(as_text=True), re.S)
    return rows is not None and probe(record_type) in rows.group()


def test_the_walk_covers_business_and_administration_types(app):
    with app.app_context():
        types = set(audited_types())
    assert ADMIN_TYPES <= types
    assert {"Customer", "Contact", "Opportunity", "Contract", "ExpenseClaim", "Budget"} <= types
    assert {"ResearchPlan", "Activity", "Interaction"} <= types


def test_the_administrator_sees_no_business_entry_of_any_audited_type(app, login):
    add_probes(app)
    admin = login("admin")
    with app.app_context():
        types = audited_types()
    shown = {t for t in types if shows(admin, t)}
    assert shown == ADMIN_TYPES, (
        f"business entries shown: {sorted(shown - ADMIN_TYPES)}; "
        f"administration entries hidden: {sorted(ADMIN_TYPES - shown)}"
    )
    # Nor through the whole (paged) log: the demo's own history of every business record.
    with app.app_context():
        seen = set(
            db.session.scalars(
                select(AuditLog.record_type).where(entries_visible_to(_user("admin"))).distinct()
            )
        )
    assert seen, "the administrator reads some history (people, settings ...)"
    assert not (seen - ADMIN_TYPES), sorted(seen - ADMIN_TYPES)


def test_the_administrator_is_not_offered_business_types_to_filter_by(login):
    page = login("admin").get("/audit/", headers=EN).get_data(as_text=True)
    options = re.search(r'<select id="type".*?</select>', page, re.S).group()
    assert 'value="User"' in options and 'value="Setting"' in options
    assert 'value="Customer"' not in options and 'value="ExpenseClaim"' not in options
    refused = login("admin").get("/audit/?type=Customer", headers=EN)
    assert refused.status_code == 422  # not a type he may read: the filter is refused
    assert "Customer</span>" not in refused.get_data(as_text=True)


@pytest.mark.parametrize("username", ["manager", "boss"])
def test_the_manager_and_the_executive_see_every_entry(app, login, username):
    deleted = add_probes(app)
    client = login(username)
    with app.app_context():
        types = audited_types()
    hidden = {t for t in types if not shows(client, t)}
    # The history of a record deleted since is read by those who see every record of its
    # type (a rule that names records by id cannot name one that is gone).
    assert hidden <= deleted, sorted(hidden - deleted)
    assert len(types) - len(hidden) > 25


def test_the_administrator_sees_his_own_actions(app, login, demo):
    with app.app_context():
        customer_id = db.session.scalar(select(func.min(Customer.id)))
        db.session.add(
            AuditLog(
                actor_id=demo["admin"],
                action="update",
                record_type="Customer",
                record_id=customer_id,
                record_label="管理员自己改过的客户",
                changes={},
                note="",
            )
        )
        db.session.commit()
    html_ = login("admin").get("/audit/?q=管理员自己改过", headers=EN).get_data(as_text=True)
    assert "管理员自己改过的客户" in html_


def _customer(app, owner: str, name: str) -> tuple[int, int]:
    """A customer of `owner` with a contact, both created (so logged); (customer, contact)."""
    from mktapp.sales.customers import name_key

    with app.app_context(), audit.acting_as(None):
        customer = Customer(name=name, name_key=name_key(name), owner=_user(owner))
        db.session.add(customer)
        db.session.flush()
        contact = Contact(customer_id=customer.id, name=f"{name}的联系人")
        db.session.add(contact)
        db.session.commit()
        return customer.id, contact.id


def test_a_sales_rep_reads_only_the_history_of_records_he_may_see(app, demo):
    mine, my_contact = _customer(app, "sales1", "审计范围自己的客户有限公司")
    theirs, their_contact = _customer(app, "sales2", "审计范围别人的客户有限公司")
    with app.test_request_context():
        rep = _user("sales1")
        query = AuditLogQuery.from_args({"q": "审计范围"})
        page = search_log(query, 100, app.config["TIMEZONE"], rep)
        seen = {(e.record_type, e.record_id) for e in page.rows}
        assert ("Customer", mine) in seen and ("Contact", my_contact) in seen
        assert ("Customer", theirs) not in seen and ("Contact", their_contact) not in seen
        manager = _user("manager")
        page = search_log(query, 100, app.config["TIMEZONE"], manager)
        assert {("Customer", theirs), ("Contact", their_contact)} <= {
            (e.record_type, e.record_id) for e in page.rows
        }


def test_an_administrator_who_is_also_a_sales_rep_reads_his_customers_history(app, login, demo):
    mine, _contact = _customer(app, "sales1", "兼任管理员自己的客户有限公司")
    theirs, _other = _customer(app, "sales2", "兼任管理员别人的客户有限公司")
    with app.app_context():
        rep = _user("sales1")
        rep.roles.append(db.session.scalar(select(Role).where(Role.code == "admin")))
        db.session.commit()
    page = login("sales1").get("/audit/?type=Customer&q=兼任管理员", headers=EN)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"#{mine}" in text and "兼任管理员自己的客户有限公司" in text
    assert "兼任管理员别人的客户有限公司" not in text and f"#{theirs}<" not in text


# --- every page open to the administrator -------------------------------------------------

HX_GET = re.compile(r'hx-get="([^"]+)"')


def business_names(app) -> set[str]:
    """The names of the demo's business records (customers, contracts, claims ...): the
    label each is logged under, when it is a name a page could show (not "#12")."""
    from mktapp.core.audit import record_label
    from mktapp.models import PolicyChapter

    names = set()
    with app.app_context():
        # The policy, which everyone reads, names kinds of things ("客户满意度调查").
        policy = " ".join(db.session.scalars(select(PolicyChapter.body)))
        for record_type in audited_types():
            if record_type in ADMIN_TYPES:
                continue
            cls = model_class(record_type)
            for record in db.session.scalars(select(cls).limit(20)):
                label = record_label(record)
                if len(label) >= 6 and not label.startswith("#") and label not in policy:
                    names.add(label)
    return names


def _texts_of_xlsx(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return " ".join(
            book.read(name).decode("utf-8", "replace")
            for name in book.namelist()
            if name.endswith(".xml")
        )


def test_no_page_open_to_the_administrator_shows_business_data(app, login, demo):
    names = business_names(app)
    assert len(names) > 20, names  # customers, contracts, claims, activities, plans ...
    admin = login("admin")
    pages: dict[str, str] = {}
    found = crawl(admin, on_page=lambda url, text: pages.__setitem__(url, text))
    assert not found.failed, found.failed
    # What the pages fetch with htmx, and what he could type: the pickers of every kind
    # of record, and the page (and hand-over) of people who own customers and claims.
    fetched = {
        html.unescape(h)
        for text in pages.values()
        for h in HX_GET.findall(text)
        if h.startswith("/") and not h.startswith(SKIP)
    }
    from mktapp.core import pickers

    sources = app.extensions[pickers._KEY]
    assert "customers" in sources
    fetched |= {f"/pick/{name}?q={q}" for name in sources for q in ("", "公司")}
    typed = {
        f"/org/users/{demo[who]}{tail}"
        for who in ("sales1", "sales2", "market1", "finance1")
        for tail in ("", "/handover")
    }
    typed |= {"/", "/expense/claims", "/expense/claims/mine", "/expense/claims/budget"}
    for url in sorted(fetched | typed):
        response = admin.get(url, htmx=url in fetched)
        if response.status_code == 200 and response.mimetype == "text/html":
            pages[url] = response.get_data(as_text=True)
    for link in sorted(found.files):
        if urlsplit(link).path.endswith(".xlsx"):
            response = admin.get(link)
            if response.status_code == 200:
                pages[link] = _texts_of_xlsx(response.data)
    leaks = [
        f"{url}: {name}"
        for url, text in pages.items()
        for name in names
        if name in text or html.escape(name) in text
    ]
    assert not leaks, "\n".join(sorted(leaks)[:40])
    # not a vacuous walk: people's pages, the pickers he may use, his lists
    assert f"/org/users/{demo['sales1']}/handover" in pages
    assert any(u.startswith("/pick/people") for u in pages) and "/org/training" in pages


def test_the_claim_forms_budget_box_is_not_open_to_the_administrator(login):
    """Budget figures are business data: the box is for those who write claims."""
    url = "/expense/claims/budget?category=research&incurred_on=2026-11-20&amount=100"
    assert login("admin").get(url, htmx=True).status_code == 403
    assert login("sales1").get(url, htmx=True).status_code == 200
