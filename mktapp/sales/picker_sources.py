"""The sales chapter's record pickers (core/pickers): customers, products, a customer's
contacts, and the people sales records are handed to or filtered by.

Registered with the app when the sales blueprint is (`register`, from routes_customers);
a form field names them: PickerField(source="customers").
"""

from __future__ import annotations

from dataclasses import replace

from flask_babel import gettext as _
from sqlalchemy import false, select
from sqlalchemy.orm import joinedload, lazyload

from mktapp.core import pickers
from mktapp.core.i18n import money
from mktapp.core.permissions import visible
from mktapp.models import User
from mktapp.models.sales import Contact, Customer, Product
from mktapp.org.picker_sources import people_source
from mktapp.sales.customers import assignable_reps, filter_owners, name_key
from mktapp.sales.pipeline import has_opportunities, owns_opportunities


def _customers(user):
    """The customers this user may see and link to (not archived), with their owners."""
    return visible(select(Customer).where(Customer.archived_at.is_(None)), user, Customer).options(
        joinedload(Customer.owner).lazyload("*"), lazyload(Customer.contacts)
    )


def _customer_detail(customer: Customer) -> str:
    place = customer.province
    if customer.city and customer.city != customer.province:
        place = f"{place} {customer.city}".strip()
    owner = customer.owner.display_name if customer.owner else _("Pool")
    return " · ".join(p for p in (place, owner) if p)


def _customer_key(q: str):
    # "上海恒通" finds "上海恒通机电有限公司" and "上海 恒通（集团）" alike.
    key = name_key(q)
    return Customer.name_key.contains(key, autoescape=True) if key else None


CUSTOMERS = pickers.PickerSource(
    name="customers",
    model=Customer,
    query=_customers,
    label=lambda c: c.name,
    columns=(Customer.name,),
    extra=_customer_key,
    detail=_customer_detail,
    browse=(Customer.updated_at.desc(),),  # nothing typed: the latest worked on first
    permissions=("sales.view",),
)


def _products(user):
    """The catalogue (not archived): every sales user may quote any product."""
    return select(Product).where(Product.archived_at.is_(None))


def _product_detail(product: Product) -> str:
    return " · ".join(p for p in (product.specification, money(product.list_price)) if p)


PRODUCTS = pickers.PickerSource(
    name="products",
    model=Product,
    query=_products,
    label=lambda p: f"{p.code} {p.name}",
    columns=(Product.name, Product.code),
    extra=lambda q: (Product.code + " " + Product.name).icontains(q, autoescape=True),
    detail=_product_detail,
    browse=(Product.code,),
    permissions=("sales.view",),
)


def _opportunity_customers(user):
    """The customers of the opportunities this user may see (archived ones too: their
    opportunities are still listed)."""
    return (
        select(Customer)
        .where(has_opportunities(user))
        .options(joinedload(Customer.owner).lazyload("*"), lazyload(Customer.contacts))
    )


OPPORTUNITY_CUSTOMERS = replace(
    CUSTOMERS, name="opportunity_customers", query=_opportunity_customers
)


def _contacts(user, scope):
    """The contacts of one customer this user may see (scope: the customer's id)."""
    customer_id = pickers.as_id(scope)
    if customer_id is None:
        return select(Contact).where(false())
    customer = visible(select(Customer.id).where(Customer.id == customer_id), user, Customer)
    return select(Contact).where(Contact.customer_id.in_(customer))


def _contact_label(contact: Contact) -> str:
    return f"{contact.name} · {contact.title}" if contact.title else contact.name


CONTACTS = pickers.PickerSource(
    name="contacts",
    model=Contact,
    query=_contacts,
    label=_contact_label,
    columns=(Contact.name, Contact.title, Contact.phone),
    detail=lambda c: " · ".join(p for p in (c.phone, c.email) if p),
    browse=(Contact.is_primary.desc(), Contact.name),
    permissions=("sales.view",),
    scoped=True,
)

# The sales reps one may hand a customer to (the customer's owner, "hand to", an import).
SALES_REPS = people_source(
    "sales_reps", lambda user: select(User).where(*assignable_reps(user)), ("sales.view",)
)
# The owners the customer list is filtered by.
CUSTOMER_OWNERS = people_source(
    "customer_owners", lambda user: select(User).where(*filter_owners(user)), ("sales.view",)
)
# The owners of the opportunities one may see (the board's and the list's owner filter).
OPPORTUNITY_OWNERS = people_source(
    "opportunity_owners",
    lambda user: select(User).where(owns_opportunities(user)),
    ("sales.view",),
)


def register(state) -> None:
    """Called once when the sales blueprint is registered on an app."""
    for source in (
        CUSTOMERS,
        PRODUCTS,
        OPPORTUNITY_CUSTOMERS,
        CONTACTS,
        SALES_REPS,
        CUSTOMER_OWNERS,
        OPPORTUNITY_OWNERS,
    ):
        pickers.register(state.app, source)
