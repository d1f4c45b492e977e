"""Authentication: passwords, throttling of failed sign-ins, user creation."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import joinedload, lazyload
from werkzeug.security import check_password_hash, generate_password_hash

from mktapp.core.errors import DomainError
from mktapp.extensions import db
from mktapp.models import ROLE_CODES, Group, LoginAttempt, Post, Role, User, user_roles, utcnow


class AuthError(DomainError):
    """A sign-in or password problem to show the user."""


class Throttled(AuthError):
    pass


# A fixed hash to compare against when the username is unknown, so that
# unknown and known usernames take the same time to refuse.
_DUMMY_HASH: dict[str, str] = {}


def hash_password(password: str, method: str) -> str:
    return generate_password_hash(password, method=method)


def _recent_failures(username: str, address: str, window: timedelta) -> int:
    since = utcnow() - window
    return db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.username == username.lower(),
            LoginAttempt.address == address,
            LoginAttempt.at >= since,
        )
    )


def authenticate(
    username: str,
    password: str,
    address: str,
    *,
    max_failures: int,
    window_seconds: int,
    hash_method: str,
) -> User:
    """Return the user for valid credentials, else raise AuthError / Throttled.

    Failures are counted per account and address; after `max_failures` in the
    window further attempts are refused without checking the password.
    """
    window = timedelta(seconds=window_seconds)
    username = (username or "").strip()
    if _recent_failures(username, address, window) >= max_failures:
        raise Throttled(
            _l(
                "Too many failed attempts. Wait %(seconds)s seconds and try again.",
                seconds=window_seconds,
            )
        )
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        dummy = _DUMMY_HASH.setdefault(hash_method, hash_password("x", hash_method))
        check_password_hash(dummy, password)
        ok = False
    else:
        ok = check_password_hash(user.password_hash, password)
    if not ok or not user.active:
        db.session.add(LoginAttempt(username=username.lower()[:80], address=address[:64]))
        # Old attempts are useless; prune them as we go.
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - 10 * window))
        db.session.commit()
        if ok and not user.active:
            raise AuthError(_l("This account has been deactivated."))
        raise AuthError(_l("Wrong username or password."))
    db.session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.username == username.lower(), LoginAttempt.address == address
        )
    )
    user.last_login_at = utcnow()
    return user


def change_password(user: User, current: str, new: str, hash_method: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise AuthError(_l("The current password is wrong."))
    user.password_hash = hash_password(new, hash_method)


def create_user(
    *,
    username: str,
    display_name: str,
    password: str,
    hash_method: str,
    roles: list[str] = (),
    group_code: str | None = None,
    post_code: str | None = None,
    email: str = "",
    phone: str = "",
) -> User:
    """Create a user with roles, group and post given by code.

    Everything is looked up first, so the new user is written (and audited) once.
    """
    role_rows = list(db.session.scalars(select(Role).where(Role.code.in_(list(roles)))))
    missing = set(roles) - {r.code for r in role_rows}
    if missing:
        raise ValueError(f"unknown roles: {', '.join(sorted(missing))}")
    group = db.session.scalar(select(Group).where(Group.code == group_code)) if group_code else None
    post = db.session.scalar(select(Post).where(Post.code == post_code)) if post_code else None
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password, hash_method),
        email=email,
        phone=phone,
        active=True,
        roles=role_rows,
        group=group,
        post=post,
    )
    db.session.add(user)
    return user


@cache
def _user_by_id():
    """load_user's statement, built once (building and option-parsing cost more than the
    query). Post and group come in the same query (the layout shows both on every page),
    and the role codes as one string from a correlated subquery, which every permission
    check needs. (Joining the roles through user_roles was measured: with 10,000 users
    SQLite's plan for that outer join cost 4 ms instead of 0.1.)"""
    codes = (
        select(func.aggregate_strings(Role.code, ","))
        .select_from(user_roles.join(Role, Role.id == user_roles.c.role_id))
        .where(user_roles.c.user_id == User.id)
        .scalar_subquery()
    )
    return (
        select(User, codes.label("role_codes"))
        .where(User.id == bindparam("user_id"))
        .options(joinedload(User.post), joinedload(User.group), lazyload(User.roles))
    )


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: a deactivated user is signed out on the next request."""
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    row = db.session.execute(_user_by_id(), {"user_id": user_id}).first()
    if row is None or not row[0].active:
        return None
    user, codes = row
    if "roles" not in user.__dict__:
        user.__dict__["_loaded_role_codes"] = frozenset(codes.split(",")) if codes else frozenset()
    return user


def ensure_roles() -> None:
    """Make sure every role of DESIGN.md's table exists (roles are fixed by the code)."""

    existing = set(db.session.scalars(select(Role.code)))
    for i, code in enumerate(ROLE_CODES):
        if code not in existing:
            db.session.add(Role(code=code, sort=i))
    db.session.flush()
