"""Who may do what: role permissions, the @require decorator and record rules.

Every view declares what it needs with @require(...) (or @public for the few
pages an anonymous visitor may open); a test walks the URL map and fails on a
view that declares nothing. Records are read only through visible(), so a
record the user may not see is a 404, never a 403 that confirms it exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, false, select, true

from mktapp.core.i18n import per_language
from mktapp.core.requests import INT_MAX
from mktapp.extensions import db, login_manager

# Permission names are "<area>.<verb>". A role grants a set of them.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(
        {
            "users.manage",
            "posts.edit",
            "policy.edit",
            "audit.view",
            "settings.manage",
            "training.manage",
            "service.settings",
        }
    ),
    "marketing_manager": frozenset(
        {
            "users.handover",
            "posts.edit",
            "policy.edit",
            "audit.view",
            "training.manage",
            "business.all",
            "expense.budget",
            "expense.monitor",
            "expense.close",
            "sales.view",
            "sales.edit",
            "sales.assign",
            "sales.import",
            "sales.merge",
            "products.edit",
            "contracts.view",
            "contracts.draft",
            "research.view",
            "research.edit",
            "brand.view",
            "brand.edit",
            "brand.strategy",
            "service.view",
            "service.handle",
            "service.reply",
            "service.quality",
            "service.settings",
        }
    ),
    "market_specialist": frozenset(
        {
            "brand.view",
            "brand.edit",
            "sales.view",
            "sales.edit",
            "sales.assign",
            "sales.import",
            "research.view",
            "research.edit",
        }
    ),
    "sales_rep": frozenset(
        {
            "sales.view",
            "sales.edit",
            "sales.import",
            "contracts.view",
            "contracts.draft",
            "brand.view",
            "service.view",
            "service.handle",
        }
    ),
    "service_agent": frozenset(
        {
            "sales.view",
            "contracts.view",
            "contracts.archive",
            "brand.view",
            "service.view",
            "service.handle",
            "service.reply",
            "service.quality",
        }
    ),
    "finance": frozenset(
        {"expense.pay", "expense.monitor", "expense.close", "contracts.view", "brand.view"}
    ),
    "executive": frozenset(
        {
            "audit.view",
            "business.all",
            "expense.monitor",
            "sales.view",
            "contracts.view",
            "research.view",
            "brand.view",
            "service.view",
            "service.quality",
        }
    ),
}

# How each role is named in the interface (English msgids, shown translated).
ROLE_LABELS: dict[str, object] = {
    "admin": _l("Administrator"),
    "marketing_manager": _l("Marketing manager"),
    "market_specialist": _l("Market specialist"),
    "sales_rep": _l("Sales rep"),
    "service_agent": _l("Service agent"),
    "finance": _l("Finance"),
    "executive": _l("Executive"),
}


def role_label(code: str) -> str:
    """The role's name in the user's language (the code itself for an unknown role)."""
    return str(ROLE_LABELS.get(code, code))


@per_language
def role_labels() -> dict[str, str]:
    """Every role's label in the current language, for lists that show many."""
    return {code: str(label) for code, label in ROLE_LABELS.items()}


# Roles that see every business record (the marketing manager and executives).
ALL_RECORDS_ROLES = frozenset({"marketing_manager", "executive"})


def permissions_of(user: Any) -> frozenset[str]:
    """The permissions a user's roles grant (kept on the loaded user object)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    codes = frozenset(user.role_codes)
    cached = getattr(user, "_permissions_cache", None)
    if cached is not None and cached[0] == codes:
        return cached[1]
    granted: set[str] = set()
    for code in codes:
        granted |= ROLE_PERMISSIONS.get(code, frozenset())
    result = frozenset(granted)
    try:
        user._permissions_cache = (codes, result)
    except AttributeError:  # a proxy or a frozen object: just do not cache
        pass
    return result


def can(user: Any, *permissions: str) -> bool:
    """True when the user holds every one of the permissions."""
    held = permissions_of(user)
    return all(p in held for p in permissions)


def require(*permissions: str) -> Callable:
    """Declare what a view needs: login always, plus every permission named.

    `@require()` means "any signed-in user". Anonymous users are sent to the
    login page; signed-in users without the permission get the 403 page.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if permissions and not can(current_user, *permissions):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permissions = tuple(permissions)  # type: ignore[attr-defined]
        return wrapped

    return decorator


def require_any(*permissions: str) -> Callable:
    """Like require(), but one of the permissions named is enough."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not any(can(current_user, p) for p in permissions):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permissions = tuple(permissions)  # type: ignore[attr-defined]
        wrapped.any_permission = True  # type: ignore[attr-defined]
        return wrapped

    return decorator


def public(view: Callable) -> Callable:
    """Mark a view that anonymous visitors may open (login, health check)."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def declared(view: Callable) -> bool:
    """Whether a view function declared its access rule (used by the URL-map test)."""
    return hasattr(view, "required_permissions") or getattr(view, "is_public", False)


# --- record rules -----------------------------------------------------------


def sees_all_records(user: Any) -> bool:
    return bool(user.role_codes & ALL_RECORDS_ROLES)


def group_member_ids(user: Any) -> Select:
    """Ids of the users in the group this user leads."""
    # The User model, from the user itself: core/permissions is imported by the models.
    User = type(getattr(user, "_get_current_object", lambda: user)())
    return select(User.id).where(User.group_id == user.group_id)


def team_rule(column: Any, user: Any, sees_all: Iterable[str], owners: Iterable[str] = ()):
    """The record rule of owned business records, on the owner column `column`.

    The roles in `sees_all`: everything. Anyone else who holds one of the `owners` roles
    (default: any business role): a group leader the group's records, others their own.
    Everyone else (an administrator without a business role ...): nothing.
    """
    codes = user.role_codes
    if codes & frozenset(sees_all):
        return true()
    if not (codes & frozenset(owners) if owners else codes - {"admin"}):
        return false()
    if user.leads_group is not None:
        return column.in_(group_member_ids(user))
    return column == user.id


def owner_rule(model: Any, user: Any):
    """The default rule for owned business records: the manager and executives see
    everything, a group leader the group's records, anyone else with a business role
    their own, an administrator without a business role nothing."""
    if sees_all_records(user):
        return true()
    return team_rule(model.owner_id, user, ALL_RECORDS_ROLES)


def visible(query: Select, user: Any, model: Any = None) -> Select:
    """Narrow a select() to the records this user may see.

    A model states its rule as a classmethod `visible_to(user)` returning a
    SQL condition; models with an owner_id fall back to owner_rule().
    """
    if model is None:
        model = query.column_descriptions[0]["entity"]
    rule = getattr(model, "visible_to", None)
    if rule is not None:
        condition = rule(user)
    elif hasattr(model, "owner_id"):
        condition = owner_rule(model, user)
    else:
        raise TypeError(f"{model.__name__} has no record rule; give it visible_to(user)")
    return query.where(condition)


def get_visible_or_404(model: Any, record_id: Any, user: Any, options: Iterable = ()):
    """Load one record through the record rules; 404 when missing or not visible."""
    try:
        record_id = int(record_id)
    except (TypeError, ValueError):
        abort(404)
    if not 0 < record_id <= INT_MAX:  # no such id fits the column: not found, not a crash
        abort(404)
    query = visible(select(model).where(model.id == record_id), user, model)
    for option in options:
        query = query.options(option)
    record = db.session.scalars(query).first()
    if record is None:
        abort(404)
    return record
