"""Authentication: passwords, throttling of failed sign-ins, sessions, user creation."""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import timedelta
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload, lazyload
from werkzeug.security import check_password_hash, generate_password_hash

from mktapp.auth.passwords import password_problem
from mktapp.core.errors import DomainError
from mktapp.extensions import db
from mktapp.models import (
    ROLE_CODES,
    Group,
    LoginThrottle,
    Post,
    Role,
    User,
    UserSession,
    user_roles,
    utcnow,
)


class AuthError(DomainError):
    """A sign-in or password problem to show the user."""


class Throttled(AuthError):
    status = 429


# A fixed hash to compare against when the username is unknown, so that
# unknown and known usernames take the same time to refuse.
_DUMMY_HASH: dict[str, str] = {}


def hash_password(password: str, method: str) -> str:
    return generate_password_hash(password, method=method)


def set_password(user: User, password: str, hash_method: str, field: str = "password") -> None:
    """The one way a password is set (a new account, a reset, one's own change): refused,
    with the reason at `field`, unless it is long enough, not the username and not common."""
    problem = password_problem(password, user.username)
    if problem:
        raise AuthError(problem, field)
    user.password_hash = hash_password(password, hash_method)


# --- throttling failed sign-ins --------------------------------------------------------
#
# Each account ("user:<name>", whatever the address) and each address ("addr:<ip>",
# whatever the account) has one LoginThrottle row: its failures in a row and the time of
# the last one. Up to its limit failures cost nothing; from there on each attempt waits
# `delay` seconds after the last failure, doubled for every failure past the limit, up to
# `max_delay`: a stranger guessing at someone's account slows it down, never locks it for
# long. A row forgets its failures once the last is twice `max_delay` old.
#
# The check cannot be raced: the rows are locked (SELECT ... FOR UPDATE on PostgreSQL; on
# SQLite the first write takes the database's write lock), the attempt is counted as a
# failure and committed, and only then is the password checked. Twenty guesses sent at
# once take the lock one after another, and only the first `limit` get a password check.
# A right password takes its attempt back.


def _delay(failures: int, limit: int, base: int, cap: int) -> int:
    """Seconds an attempt waits after the last failure, with `failures` in a row."""
    if failures < limit:
        return 0
    return min(base * 2 ** min(failures - limit, 30), cap)


def _insert_missing(keys: list[str]) -> None:
    """Make sure the throttle rows exist (in key order, as they are locked)."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = [{"key": key, "failures": 0, "last_failure_at": None} for key in keys]
    db.session.execute(insert(LoginThrottle).values(rows).on_conflict_do_nothing())


def _reserve(limits: dict[str, int], *, base: int, cap: int) -> None:
    """Count one more attempt for each key, unless one of them must wait (Throttled).
    Commits either way, which releases the rows' locks."""
    keys = sorted(limits)
    _insert_missing(keys)
    rows = db.session.scalars(
        select(LoginThrottle)
        .where(LoginThrottle.key.in_(keys))
        .order_by(LoginThrottle.key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    now = utcnow()
    memory = timedelta(seconds=2 * max(cap, base))
    wait = 0.0
    counts = {}
    for row in rows:
        recent = row.last_failure_at is not None and row.last_failure_at >= now - memory
        counts[row.key] = row.failures if recent else 0
        delay = _delay(counts[row.key], limits[row.key], base, cap)
        if delay:
            wait = max(wait, (row.last_failure_at + timedelta(seconds=delay) - now).total_seconds())
    if wait > 0:
        db.session.commit()
        raise Throttled(
            _l(
                "Too many failed attempts. Wait %(seconds)s seconds and try again.",
                seconds=math.ceil(wait),
            ),
            "password",
        )
    for row in rows:
        row.failures = counts[row.key] + 1
        row.last_failure_at = now
    db.session.commit()
    # Rows nobody failed on for long are forgotten as we go, in a transaction of their own
    # (holding no other row's lock while it waits for one).
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - memory))
    db.session.commit()


def _take_back(account_key: str, address_key: str) -> None:
    """A right password: the account starts afresh; the address gets its attempt back
    (only that one: signing in to one's own account does not clear guesses at others).
    The rows are written in key order ("addr:" before "user:"), the order _reserve locks
    them in, so that two sign-ins never wait for each other in a circle."""
    db.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == address_key, LoginThrottle.failures > 0)
        .values(failures=LoginThrottle.failures - 1)
    )
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == account_key))


def authenticate(
    username: str,
    password: str,
    address: str,
    *,
    max_failures: int,
    window_seconds: int,
    hash_method: str,
    address_max_failures: int | None = None,
    max_delay_seconds: int | None = None,
) -> User:
    """Return the user for valid credentials, else raise AuthError / Throttled.

    Failures are counted per account (`max_failures` free ones) and per address
    (`address_max_failures`); past the limit an attempt waits `window_seconds` after the
    last failure, doubled for each further one, up to `max_delay_seconds` (see above).
    Commits the attempt before checking the password; the caller commits the sign-in.
    """
    name = (username or "").strip()
    account_key = "user:" + name.lower()[:80]
    address_key = "addr:" + (address or "-")[:64]
    cap = max_delay_seconds if max_delay_seconds is not None else 15 * window_seconds
    _reserve(
        {
            account_key: max_failures,
            address_key: address_max_failures if address_max_failures else 6 * max_failures,
        },
        base=window_seconds,
        cap=max(cap, window_seconds),
    )
    user = db.session.scalar(select(User).where(func.lower(User.username) == name.lower()))
    if user is None:
        dummy = _DUMMY_HASH.setdefault(hash_method, hash_password("x", hash_method))
        check_password_hash(dummy, password)
        ok = False
    else:
        ok = check_password_hash(user.password_hash, password)
    if not ok or not user.active:
        # The attempt stays counted as a failure (it was committed before the check).
        if ok and not user.active:
            raise AuthError(_l("This account has been deactivated."), "password")
        raise AuthError(_l("Wrong username or password."), "password")
    _take_back(account_key, address_key)
    user.last_login_at = utcnow()
    return user


# --- sessions ----------------------------------------------------------------------------
#
# The session cookie (signed by Flask) holds a random token; the UserSession row keyed by
# its SHA-256 says whether it still counts. The cookie alone is not enough: a copy of it
# stops working once its row has ended (sign-out, a password change, an administrator).

# Where the (signed) session cookie keeps the session's token.
SESSION_TOKEN = "_session_token"
# How often a session's last-seen time is written: not on every request.
TOUCH_EVERY = timedelta(minutes=1)
# Ended or lapsed sessions are kept this long (who signed in when), then forgotten.
KEEP_SESSIONS = timedelta(days=30)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> str:
    """A new session for `user` (at sign-in): returns the token to keep in the cookie.
    The caller commits."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            or_(
                UserSession.ended_at < now - KEEP_SESSIONS,
                UserSession.last_seen_at < now - KEEP_SESSIONS,
            ),
        )
    )
    db.session.add(
        UserSession(id=_digest(token), user_id=user.id, created_at=now, last_seen_at=now)
    )
    return token


def end_session(token: str | None) -> None:
    """End one session (signing out); the caller commits."""
    if not token:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.id == _digest(token), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def end_sessions(user: User, keep: str | None = None) -> int:
    """End every open session of `user` but the one of token `keep`; how many ended.
    The caller commits."""
    statement = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if keep:
        statement = statement.where(UserSession.id != _digest(keep))
    return db.session.execute(statement.values(ended_at=utcnow())).rowcount or 0


def open_sessions(user: User, idle: timedelta) -> int:
    """How many sessions of `user` are open (not ended, used within the idle time)."""
    return db.session.scalar(
        select(func.count())
        .select_from(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
            UserSession.last_seen_at >= utcnow() - idle - TOUCH_EVERY,
        )
    )


def change_password(
    user: User, current: str, new: str, hash_method: str, keep: str | None = None
) -> int:
    """One's own new password: every other session of the user ends (`keep`: the token of
    the one in use). Returns how many ended."""
    if not check_password_hash(user.password_hash, current):
        raise AuthError(_l("The current password is wrong."), "current_password")
    set_password(user, new, hash_method, field="new_password")
    return end_sessions(user, keep=keep)


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
        email=email,
        phone=phone,
        active=True,
        roles=role_rows,
        group=group,
        post=post,
    )
    set_password(user, password, hash_method)
    db.session.add(user)
    return user


@cache
def _user_by_id():
    """load_user's statement, built once (building and option-parsing cost more than the
    query). Post and group come in the same query (the layout shows both on every page),
    and the role codes as one string from a correlated subquery, which every permission
    check needs. (Joining the roles through user_roles was measured: with 10,000 users
    SQLite's plan for that outer join cost 4 ms instead of 0.1.) The session's row comes
    by its primary key in the same statement: no row, or an ended one, and no user."""
    codes = (
        select(func.aggregate_strings(Role.code, ","))
        .select_from(user_roles.join(Role, Role.id == user_roles.c.role_id))
        .where(user_roles.c.user_id == User.id)
        .scalar_subquery()
    )
    return (
        select(User, codes.label("role_codes"), UserSession.last_seen_at)
        .join(
            UserSession,
            (UserSession.user_id == User.id)
            & (UserSession.id == bindparam("session_id"))
            & UserSession.ended_at.is_(None),
        )
        .where(User.id == bindparam("user_id"))
        .options(joinedload(User.post), joinedload(User.group), lazyload(User.roles))
    )


def load_user(user_id: str, token: str | None, idle: timedelta) -> User | None:
    """Flask-Login's loader, given the session's token from the cookie: the user while the
    session has not ended and has been used within `idle`. A deactivated user is signed
    out on the next request.

    The session's last-seen time is written at most once a minute, and only when this
    request has not touched the database yet (the loader runs first on nearly every
    request): its commit then holds nothing but that write.
    """
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    if not token or not isinstance(token, str):
        return None
    untouched = not db.session().in_transaction()
    session_id = _digest(token)
    row = db.session.execute(_user_by_id(), {"user_id": user_id, "session_id": session_id}).first()
    if row is None or not row[0].active:
        return None
    user, codes, last_seen = row
    now = utcnow()
    if last_seen < now - idle - TOUCH_EVERY:
        if untouched:
            end_session(token)
            db.session.commit()
        return None
    if untouched and last_seen < now - TOUCH_EVERY:
        db.session.execute(
            update(UserSession)
            .where(UserSession.id == session_id, UserSession.ended_at.is_(None))
            .values(last_seen_at=now)
        )
        db.session.commit()
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
