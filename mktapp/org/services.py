"""Organisation logic (P1.1 structure, P1.2 duties, P7.2 staff): the org chart, posts,
the user directory and user administration.

Functions take the acting user and plain data and never touch the request.
Problems a person can fix are raised as OrgError, with the form field they
belong to when there is one.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from mktapp.auth.services import end_sessions, ensure_roles, set_password
from mktapp.core import clock
from mktapp.core.audit import noting
from mktapp.core.errors import DomainError
from mktapp.core.i18n import per_language
from mktapp.core.lists import (
    Cached,
    Column,
    Filter,
    ListPage,
    ListSpec,
    actions_column,
    one_of,
)
from mktapp.core.notify import notify, resolve
from mktapp.core.permissions import get_visible_or_404, role_label, visible
from mktapp.extensions import db
from mktapp.models import ROLE_CODES, AuditLog, Group, Post, Role, User
from mktapp.models.base import utcnow
from mktapp.models.org import user_roles

ADMIN_ROLE = "admin"
EXECUTIVE_ROLE = "executive"


class OrgError(DomainError):
    """Something about the request a person can put right; `field` names the form field."""


# --- org chart (P1.1) -------------------------------------------------------


def org_chart() -> dict:
    """Executives and the marketing manager on top, each group with its leader and members,
    and the staff outside the groups (finance, administration)."""
    groups = db.session.scalars(
        select(Group)
        .options(
            selectinload(Group.members).selectinload(User.post),
            selectinload(Group.members).selectinload(User.roles),
        )
        .order_by(Group.sort, Group.id)
    ).all()
    ungrouped = db.session.scalars(
        select(User)
        .options(selectinload(User.post))
        .where(User.group_id.is_(None), User.active.is_(True))
        .order_by(User.display_name)
    ).all()
    managers = [u for u in ungrouped if u.has_role("marketing_manager")]
    executives = [u for u in ungrouped if u.has_role("executive") and u not in managers]
    # The system administrator keeps the system, not the department: left off the chart.
    others = [
        u
        for u in ungrouped
        if u not in managers and u not in executives and u.role_codes - {ADMIN_ROLE}
    ]
    chart_groups = []
    for group in groups:
        members = [u for u in group.members if u.active]
        leader = next((u for u in members if u.id == group.leader_id), None)
        rest = [u for u in members if u is not leader]
        chart_groups.append({"group": group, "leader": leader, "members": rest})
    return {
        "executives": executives,
        "managers": managers,
        "groups": chart_groups,
        "others": others,
    }


# --- the user directory ------------------------------------------------------

STATUSES = ("active", "inactive", "all")


def _group_arg(raw: str) -> str | None:
    """A group id, or "none" for people outside the groups."""
    raw = raw.strip()
    return raw if raw == "none" or raw.isdigit() else None


def _role_arg(raw: str) -> str | None:
    raw = raw.strip()
    return raw if raw in ROLE_CODES else None


DIRECTORY = ListSpec(
    "directory",
    [
        Column("name", _l("Name"), sort=User.display_name),
        Column("username", _l("Username"), sort=func.lower(User.username)),
        Column(
            "post",
            _l("Post"),
            sort=select(Post.sort).where(Post.id == User.post_id).scalar_subquery(),
            nulls_last=True,
        ),
        Column(
            "group",
            _l("Group"),
            sort=select(Group.sort).where(Group.id == User.group_id).scalar_subquery(),
            nulls_last=True,
        ),
        Column("roles", _l("Roles")),
        Column("email", _l("E-mail"), sort=func.lower(User.email)),
        Column("phone", _l("Phone")),
        Column("active", _l("Status"), sort=User.active),
        actions_column(),
        # A sort with no header of its own (?sort=joined), empty dates last.
        Column("joined", "", sort=User.joined_on, nulls_last=True, screen=False, export=False),
    ],
    filters=[
        Filter("group", _group_arg),
        Filter("role", _role_arg),
        Filter("status", one_of(*STATUSES), default="active"),  # from_args(default_status=)
    ],
    default_sort="name",
    tie=User.id,
    # The busiest rows of the app: kept rendered until people change (bench/pages.py:
    # 0.65 of a bare page with the cache, 0.35 without).
    cache=Cached(depends=("people",), rules=(User,)),
)
DirectoryQuery = DIRECTORY.Query
# The directory's columns without the administrators' actions.
PUBLIC_COLUMNS = tuple(c.key for c in DIRECTORY.screen_columns if c.key != "actions")


def _directory_conditions(query, status: bool = True) -> list:
    conditions = []
    if query.q:
        text = query.q
        conditions.append(
            User.display_name.icontains(text, autoescape=True)
            | User.username.icontains(text, autoescape=True)
            | User.email.icontains(text, autoescape=True)
            | User.phone.icontains(text, autoescape=True)
        )
    if query.group == "none":
        conditions.append(User.group_id.is_(None))
    elif query.group:
        conditions.append(User.group_id == int(query.group))
    if query.role:
        conditions.append(User.roles.any(Role.code == query.role))
    if status and query.status == "active":
        conditions.append(User.active.is_(True))
    elif status and query.status == "inactive":
        conditions.append(User.active.is_(False))
    return conditions


def _directory_total(viewer: User, query):
    """How many people match, as a scalar subquery.

    The active people are counted as everyone matching minus the inactive ones: with
    no other filter, count(*) and the partial index ix_users_inactive answer that
    without reading the table, where counting `active IS true` reads every row.
    """

    def count(*conditions):
        return visible(select(func.count()).select_from(User), viewer, User).where(*conditions)

    if query.status != "active":
        return count(*_directory_conditions(query)).scalar_subquery()
    others = _directory_conditions(query, status=False)
    return (
        count(*others).scalar_subquery() - count(*others, User.active.is_(False)).scalar_subquery()
    )


@cache
def _row_aliases():
    """The group and post joined to the directory rows (made once: aliasing is not free)."""
    return aliased(Group, name="row_group"), aliased(Post, name="row_post")


@cache
def _page_roles():
    """The page's (user id, role code) pairs, in the roles' order (built once)."""
    return (
        select(user_roles.c.user_id, Role.code)
        .join(Role, Role.id == user_roles.c.role_id)
        .where(user_roles.c.user_id.in_(bindparam("user_ids", expanding=True)))
        .order_by(Role.sort, Role.id)
    )


@cache
def _filter_groups():
    """The group filter's choices: id and name rows (built once; no Group objects)."""
    return select(Group.id, Group.name).order_by(Group.sort, Group.id)


def filter_groups() -> list:
    """The group filter's choices: (id, name) rows."""
    return db.session.execute(_filter_groups()).all()


def user_directory(viewer: User, query, page_size: int) -> ListPage:
    """One page of staff, filtered and sorted, in a fixed number of queries.

    The rows, their group and post, and the total come back in one statement (the
    total as a scalar subquery), their role codes in a second; plus one query for the
    group filter's choices, whatever the page size. This is why it does not use
    DIRECTORY.page() (a separate count, then ORM entities): only the order comes from
    the spec. A page past the last is not clamped; it shows empty with the pager.
    """

    conditions = _directory_conditions(query)
    offset = (query.page - 1) * page_size
    # The total as a scalar subquery rather than a window count, which would make the
    # database read and sort every matching row. The roles come in a second query as
    # (user, code) pairs: a joined collection would wrap the LIMIT in a subquery.
    total = _directory_total(viewer, query)
    # Plain rows, not User objects: the list only shows them, and building 25 ORM
    # objects with their group and post cost more than the query. Aliases keep the
    # joins apart from the group and post sort subqueries.
    group, post = _row_aliases()
    columns = (
        User.id,
        User.username,
        User.display_name,
        User.email,
        User.phone,
        User.active,
        User.group_id,
        User.post_id,
        group.name.label("group_name"),
        group.leader_id.label("group_leader_id"),
        post.name.label("post_name"),
    )
    statement = (
        visible(select(*columns, total.label("total")), viewer, User)
        .outerjoin(group, group.id == User.group_id)
        .outerjoin(post, post.id == User.post_id)
        .where(*conditions)
    )
    statement = DIRECTORY.ordered(statement, query).limit(page_size).offset(offset)
    rows = db.session.execute(statement).all()
    if rows:
        total = rows[0].total
    else:
        # Past the last page (or nothing matches): count once to draw the pager.
        total = db.session.scalar(select(total))
    role_codes: dict[int, list[str]] = {}
    if rows:
        pairs = db.session.execute(_page_roles(), {"user_ids": [u.id for u in rows]})
        for user_id, code in pairs:
            role_codes.setdefault(user_id, []).append(code)
    page = ListPage(rows, total or 0, query.page, page_size, {})
    page.role_codes = role_codes  # each row's role codes (by user id), in the roles' order
    return page


# --- user administration (P7.2) ---------------------------------------------


def username_taken(username: str, except_id: int | None = None) -> bool:
    statement = select(User.id).where(func.lower(User.username) == username.strip().lower())
    if except_id is not None:
        statement = statement.where(User.id != except_id)
    return db.session.scalar(statement) is not None


def _roles_by_code(codes) -> list[Role]:
    codes = list(dict.fromkeys(codes or ()))
    unknown = set(codes) - set(ROLE_CODES)
    if unknown:
        raise OrgError(_l("Unknown role."), "roles")
    # Roles are fixed by the code; make sure their rows exist (one place does that).
    ensure_roles()
    return list(db.session.scalars(select(Role).where(Role.code.in_(codes)).order_by(Role.sort)))


def _optional(model, record_id: int | None, message, field: str):
    """The record with this id, None for "none chosen", an OrgError on the field if unknown."""
    if not record_id:
        return None
    record = db.session.get(model, record_id)
    if record is None:
        raise OrgError(message, field)
    return record


def _group_or_none(group_id: int | None) -> Group | None:
    return _optional(Group, group_id, _l("Unknown group."), "group_id")


def _post_or_none(post_id: int | None) -> Post | None:
    return _optional(Post, post_id, _l("Unknown post."), "post_id")


def other_active_admins(user: User) -> int:
    return db.session.scalar(
        select(func.count(User.id)).where(
            User.active.is_(True),
            User.id != user.id,
            User.roles.any(Role.code == ADMIN_ROLE),
        )
    )


def _check_keeps_an_admin(user: User, *, active: bool, role_codes) -> None:
    """The last active administrator can neither be deactivated nor lose the role."""
    if not (user.active and user.has_role(ADMIN_ROLE)):
        return
    if active and ADMIN_ROLE in role_codes:
        return
    if other_active_admins(user) == 0:
        if not active:
            raise OrgError(
                _l("This is the last active administrator; make someone else administrator first."),
                "active",
            )
        raise OrgError(
            _l("The last active administrator cannot lose the Administrator role."), "roles"
        )


def _check_not_own_roles(actor: User, user: User, role_codes) -> None:
    """Nobody changes their own roles (an administrator would make himself executive)."""
    if actor.id == user.id and set(role_codes) != user.role_codes:
        raise OrgError(_l("You cannot change your own roles; ask another administrator."), "roles")


# --- business roles for administrator accounts ---------------------------------------
#
# The administrator keeps users and settings and sees no business data. An account that
# holds the administrator role together with a business role (any other) would be both,
# so such a grant needs a second person, an executive: when someone else asks for it, the
# other changes are saved, the roles that would make the pair wait, and the executives
# are asked (a notification linking to grant_roles_page). An executive's grant is applied
# and told to the other executives.


def roles_needing_executive(old_codes, new_codes) -> set[str]:
    """Of the roles given (new minus old), those that make or widen an account holding
    both the administrator role and a business role."""
    old_codes, new_codes = set(old_codes), set(new_codes)
    business = new_codes - {ADMIN_ROLE}
    if ADMIN_ROLE not in new_codes or not business:
        return set()
    gained = new_codes - old_codes
    held = gained & business
    if ADMIN_ROLE in gained and (old_codes & business):
        # A business account made administrator: that is the grant to confirm.
        held.add(ADMIN_ROLE)
    return held


def _executives(*, but: User | None = None) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True), User.roles.any(Role.code == EXECUTIVE_ROLE))
            .where(User.id != (but.id if but is not None else -1))
            .order_by(User.id)
        )
    )


def _role_names(codes) -> str:
    return "、".join(role_label(code) for code in ROLE_CODES if code in set(codes))


def _grant_task(user: User) -> str:
    return f"role_grant:{user.id}"


def _ask_executives(actor: User, user: User, codes: set[str]) -> None:
    """Ask every active executive to grant `codes` to `user` (the caller commits)."""
    url = url_for("org.admin_user_grant", user_id=user.id, roles=",".join(sorted(codes)))
    for executive in _executives():
        notify(
            executive,
            _("Confirm roles for %(name)s", name=user.display_name),
            body=_(
                "%(actor)s asked to give %(name)s the roles %(roles)s, which would make the "
                "account both an administrator and a business user. That needs an "
                "executive's consent: open this to grant the roles.",
                actor=actor.display_name,
                name=user.display_name,
                roles=_role_names(codes),
            ),
            url=url,
            task=_grant_task(user),
        )


def _tell_executives(actor: User, user: User, codes: set[str]) -> None:
    """Tell the other executives that `actor` gave an administrator account business roles;
    the requests for it are done."""
    resolve(_grant_task(user))
    for executive in _executives(but=actor):
        notify(
            executive,
            _("Roles given to %(name)s", name=user.display_name),
            body=_(
                "%(actor)s gave %(name)s the roles %(roles)s: the account is now both an "
                "administrator and a business user.",
                actor=actor.display_name,
                name=user.display_name,
                roles=_role_names(codes),
            ),
            url=url_for("org.profile", user_id=user.id),
        )


def _split_roles(actor: User, old_codes, new_codes) -> tuple[set[str], set[str]]:
    """(the roles to apply now, those waiting for an executive) for `actor`'s change."""
    held = roles_needing_executive(old_codes, new_codes)
    if not held:
        return set(new_codes), set()
    if actor is not None and actor.has_role(EXECUTIVE_ROLE):
        return set(new_codes), set()
    return set(new_codes) - held, held


def _after_roles(actor: User, user: User, old_codes, applied, held) -> None:
    """Notifications for a change of roles: the executives asked, or told."""
    user.pending_roles = held  # for the route's message (not stored)
    if held:
        _ask_executives(actor, user, held)
    given = roles_needing_executive(old_codes, applied)
    if given:
        _tell_executives(actor, user, given)


def may_grant_roles(actor: User) -> bool:
    """Whether `actor` may open the executives' page that grants the roles asked for."""
    return actor.has_role(EXECUTIVE_ROLE)


def grant_roles_problem(actor: User, user: User, codes) -> str | None:
    """Why `actor` may not grant `codes` to `user` on the executives' page, or None."""
    codes = set(codes)
    if not codes or codes - set(ROLE_CODES):
        return str(_l("Unknown role."))
    if actor.id == user.id:
        return str(_l("You cannot change your own roles; ask another administrator."))
    if not user.active:
        return str(_l("This account is inactive."))
    if codes <= user.role_codes:
        return str(_l("%(name)s already has these roles.", name=user.display_name))
    return None


def grant_roles(actor: User, user: User, codes) -> User:
    """An executive gives `user` the roles `codes` (asked for by an administrator)."""
    if not may_grant_roles(actor):
        raise OrgError(_l("Only an executive can grant these roles."), status=403)
    problem = grant_roles_problem(actor, user, codes)
    if problem:
        raise OrgError(problem)
    old_codes = set(user.role_codes)
    new_codes = old_codes | set(codes)
    user.roles = _roles_by_code(new_codes)
    _after_roles(actor, user, old_codes, new_codes, set())
    db.session.flush()
    return user


def _check_not_self_deactivation(actor: User, user: User, active: bool) -> None:
    if not active and user.active and actor.id == user.id:
        raise OrgError(_l("You cannot deactivate your own account."), "active")


def create_user(
    actor: User,
    *,
    username: str,
    display_name: str,
    password: str,
    hash_method: str,
    roles: list[str],
    email: str = "",
    phone: str = "",
    group_id: int | None = None,
    post_id: int | None = None,
    joined_on: date | None = None,
) -> User:
    """A new active account; the username is unique whatever its case."""

    username = username.strip()
    if username_taken(username):
        raise OrgError(_l("This username is taken (usernames ignore case)."), "username")
    user = User(
        username=username,
        display_name=display_name.strip(),
        email=(email or "").strip(),
        phone=(phone or "").strip(),
        active=True,
        joined_on=joined_on or clock.today(),
    )
    set_password(user, password, hash_method)
    _roles_by_code(roles)  # unknown roles refused first
    applied, held = _split_roles(actor, set(), roles)
    roles = _roles_by_code(applied)
    group = _group_or_none(group_id)
    post = _post_or_none(post_id)
    user.roles, user.group, user.post = roles, group, post
    db.session.add(user)
    db.session.flush()
    _after_roles(actor, user, set(), applied, held)
    return user


def update_user(
    actor: User,
    user: User,
    *,
    display_name: str,
    roles: list[str],
    email: str = "",
    phone: str = "",
    group_id: int | None = None,
    post_id: int | None = None,
    joined_on: date | None = None,
    active: bool = True,
) -> User:
    """Change a person's contact, roles, group, post and active state. Nobody changes
    their own roles; business roles for an administrator account wait for an executive
    unless `actor` is one (user.pending_roles: those that wait)."""
    _roles_by_code(roles)  # unknown roles refused first
    _check_not_own_roles(actor, user, roles)
    old_codes = set(user.role_codes)
    applied, held = _split_roles(actor, old_codes, roles)
    new_roles = _roles_by_code(applied)
    group = _group_or_none(group_id)
    post = _post_or_none(post_id)
    _check_not_self_deactivation(actor, user, active)
    _check_keeps_an_admin(user, active=active, role_codes={r.code for r in new_roles})
    old_group = user.group
    user.display_name = display_name.strip()
    user.email = (email or "").strip()
    user.phone = (phone or "").strip()
    user.roles = new_roles
    user.group = group
    user.post = post
    user.joined_on = joined_on
    user.active = active
    if (
        old_group is not None
        and old_group.leader_id == user.id
        and (group is not old_group or not active)
    ):
        # A leader who leaves the group (or the company) no longer leads it.
        old_group.leader = None
    if not active:
        end_sessions(user)
    db.session.flush()
    _after_roles(actor, user, old_codes, applied, held)
    return user


def deactivation_problem(actor: User, user: User) -> str | None:
    """Why this user may not be deactivated now, or None."""
    try:
        _check_not_self_deactivation(actor, user, False)
        _check_keeps_an_admin(user, active=False, role_codes=user.role_codes)
    except OrgError as error:
        return str(error)
    return None


def deactivate_user(actor: User, user: User) -> None:
    """Deactivate an account (never delete it): it can no longer sign in."""
    problem = deactivation_problem(actor, user)
    if problem:
        raise OrgError(problem)
    if not user.active:
        return
    user.active = False
    group = user.group
    if group is not None and group.leader_id == user.id:
        group.leader = None
    end_sessions(user)
    db.session.flush()


def reactivate_user(actor: User, user: User) -> None:
    user.active = True
    db.session.flush()


def _log_account_action(actor: User, user: User, action: str, note: str) -> None:
    """An entry in the user's history for an account action that changes no column."""
    db.session.add(
        AuditLog(
            at=utcnow(),
            actor_id=actor.id,
            action=action,
            record_type="User",
            record_id=user.id,
            record_label=user.display_name,
            changes={},
            note=note,
        )
    )


def reset_password(
    actor: User, user: User, password: str, hash_method: str, keep: str | None = None
) -> None:
    """An administrator sets a new password for someone (to pass on to them): every
    session of that person ends (`keep`: the token of the actor's own, if it is theirs)."""

    set_password(user, password, hash_method)
    end_sessions(user, keep=keep)
    # The hash itself never reaches the audit log; the fact of the reset does.
    _log_account_action(actor, user, "password", f"password reset by {actor.username}")
    db.session.flush()


def end_user_sessions(actor: User, user: User, keep: str | None = None) -> int:
    """An administrator signs someone out everywhere (a lost phone, a shared computer):
    every open session of theirs ends (`keep`: the actor's own, when it is themself).
    Returns how many ended."""
    ended = end_sessions(user, keep=keep)
    _log_account_action(actor, user, "sessions", f"sessions ended by {actor.username}")
    db.session.flush()
    return ended


# --- hand-over ---------------------------------------------------------------


def owned_models() -> list[type]:
    """Every mapped model with an owner_id column (later chapters' included), by name.

    A model that sets `__handover__ = False` (a person's own training record)
    stays with its owner.
    """
    models = []
    for mapper in db.Model.registry.mappers:
        cls = mapper.class_
        if "owner_id" in mapper.columns and getattr(cls, "__handover__", True):
            models.append(cls)
    return sorted(models, key=lambda cls: cls.__name__)


def model_label(cls: type) -> str:
    return str(getattr(cls, "__label__", None) or cls.__name__)


def owned_counts(user: User) -> list[tuple[type, str, int]]:
    """(model, label, how many) for each kind of record this user owns, zero counts left out."""
    counts = []
    for cls in owned_models():
        n = db.session.scalar(select(func.count()).select_from(cls).where(cls.owner_id == user.id))
        if n:
            counts.append((cls, model_label(cls), n))
    return counts


def hand_over(actor: User, source: User, target: User) -> dict[str, int]:
    """Give every record `source` owns to `target`, in the caller's transaction.

    Records are changed through the ORM so that the audit log writes one entry
    per record, each noted "hand-over from X to Y".
    """
    if target.id == source.id:
        raise OrgError(_l("Choose someone else to hand the records to."), "target_id")
    if not target.active:
        raise OrgError(_l("Records can only be handed to an active user."), "target_id")
    moved: dict[str, int] = {}
    note = f"hand-over from {source.display_name} ({source.username}) to {target.display_name} ({target.username})"
    with noting(note):
        for cls in owned_models():
            records = db.session.scalars(select(cls).where(cls.owner_id == source.id)).all()
            for record in records:
                record.owner_id = target.id
            if records:
                moved[model_label(cls)] = len(records)
        db.session.flush()
    return moved


# --- groups and posts (P1.1, P1.2) ------------------------------------------


def update_group(actor: User, group: Group, *, name: str, description: str, leader_id) -> Group:
    """Rename a group and choose its leader among its active members."""
    leader = None
    if leader_id:
        leader = db.session.get(User, leader_id)
        if leader is None or leader.group_id != group.id or not leader.active:
            raise OrgError(_l("The leader must be an active member of the group."), "leader_id")
    group.name = name.strip()
    group.description = (description or "").strip()
    group.leader = leader
    db.session.flush()
    return group


def posts_with_holders() -> list[Post]:
    return list(
        db.session.scalars(
            select(Post)
            .options(selectinload(Post.holders).selectinload(User.group))
            .order_by(Post.sort, Post.id)
        )
    )


def update_post(actor: User, post: Post, *, name: str, duties: str) -> Post:
    """Rename a post and rewrite its duties, one per line (blank lines dropped)."""
    lines = [line.strip() for line in (duties or "").splitlines() if line.strip()]
    post.name = name.strip()
    post.duties = "\n".join(lines)
    db.session.flush()
    return post


def user_for_profile(user_id, viewer: User) -> User:

    return get_visible_or_404(
        User,
        user_id,
        viewer,
        options=(joinedload(User.post), joinedload(User.group).joinedload(Group.leader)),
    )


@per_language
def role_choices() -> list[tuple[str, str]]:

    return [(code, role_label(code)) for code in ROLE_CODES]
