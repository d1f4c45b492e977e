"""Organisation views (P1.1 org chart, P1.2 posts and duties, P7.2 staff and accounts):
the org chart, the user directory and profiles, user administration with hand-over,
groups, posts and duties.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import abort, current_app, flash, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mktapp.auth.services import SESSION_TOKEN, open_sessions
from mktapp.core import audit, nav
from mktapp.core.actions import edit_page, record_action
from mktapp.core.forms import ConfirmForm
from mktapp.core.htmx import redirect_to, render
from mktapp.core.lists import list_page
from mktapp.core.permissions import get_visible_or_404, require, require_any, role_label
from mktapp.extensions import db
from mktapp.models import Group, Post, User
from mktapp.org import bp, picker_sources, services
from mktapp.org.forms import (
    GroupForm,
    HandoverForm,
    PostForm,
    ResetPasswordForm,
    UserCreateForm,
    UserEditForm,
)
from mktapp.org.services import DirectoryQuery

# The people picker (core/pickers), registered with the app.
bp.record_once(picker_sources.register)


# --- org chart ----------------------------------------------------------------


@bp.get("/")
@require()
def chart():
    """The org chart: the manager, the three groups, their leaders and members."""
    return render("org/chart.html", **services.org_chart())


# --- directory and profiles ---------------------------------------------------


def _directory(endpoint: str, admin_mode: bool):
    query = DirectoryQuery.from_args(request.args, default_status="all" if admin_mode else "active")
    list_url = url_for(endpoint)
    return list_page(
        "org/users.html",
        "user_rows",
        query,
        services.user_directory,
        query.url(list_url),
        key=(endpoint, admin_mode),
        list_endpoint=endpoint,
        list_url=list_url,
        admin_mode=admin_mode,
        public_columns=services.PUBLIC_COLUMNS,
        groups=services.filter_groups(),
        role_choices=services.role_choices(),
    )


@bp.get("/users")
@require()
def users():
    """The staff directory: search, filter, sort and page (with or without JavaScript)."""
    return _directory("org.users", admin_mode=False)


@bp.get("/admin/users")
@require("users.manage")
def admin_users():
    """The directory for administrators: every account, with the actions on it."""
    return _directory("org.admin_users", admin_mode=True)


@bp.get("/users/<int:user_id>")
@require()
def profile(user_id: int):
    """A person's profile: contact, post and duties, group, roles."""
    person = services.user_for_profile(user_id, current_user)
    team = []
    if person.leads_group is not None:
        team = [u for u in person.group.members if u.active and u.id != person.id]
    return render(
        "org/profile.html",
        person=person,
        team=team,
        deactivation_problem=services.deactivation_problem(current_user, person),
    )


# --- user administration --------------------------------------------------------


def _person_choices(form) -> None:
    groups = db.session.scalars(select(Group).order_by(Group.sort, Group.id)).all()
    posts = db.session.scalars(select(Post).order_by(Post.sort, Post.id)).all()
    form.set_choices(services.role_choices(), groups, posts)


@bp.route("/users/new", methods=["GET", "POST"])
@require("users.manage")
def admin_user_new():
    """Create an account: username, name, contact, roles, group, post, initial password."""
    form = UserCreateForm()
    _person_choices(form)
    return edit_page(
        "org/user_form.html",
        "user_form",
        form,
        None,
        lambda _none, form: services.create_user(
            current_user,
            username=form.username.data,
            password=form.password.data,
            hash_method=current_app.config["PASSWORD_HASH_METHOD"],
            **form.person(),
        ),
        message=lambda user: (
            _(
                "%(name)s can now sign in as %(username)s.",
                name=user.display_name,
                username=user.username,
            )
            + _waiting(user)
        ),
        then=lambda user: url_for("org.profile", user_id=user.id),
        person=None,
    )


def _waiting(person: User) -> str:
    """The toast's addition when some roles wait for an executive's consent."""
    held = getattr(person, "pending_roles", None)
    if not held:
        return ""
    return " " + _(
        "The roles %(roles)s need an executive's consent for an administrator account; "
        "the executives have been asked.",
        roles="、".join(role_label(code) for code in sorted(held)),
    )


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@require("users.manage")
def admin_user_edit(user_id: int):
    """Change a person's roles, group, post, contact and active state."""
    person = get_visible_or_404(User, user_id, current_user)
    # One's own roles are shown, not offered (update_user refuses a change to them too).
    own = person.id == current_user.id
    if request.method == "GET":
        form = UserEditForm(obj=person)
        form.roles.data = [r.code for r in person.roles]
        form.group_id.data = person.group_id or 0
        form.post_id.data = person.post_id or 0
    else:
        form = UserEditForm()
        if own and not form.roles.data:
            form.roles.data = [r.code for r in person.roles]
    _person_choices(form)
    return edit_page(
        "org/user_form.html",
        "user_form",
        form,
        person,
        lambda person, form: services.update_user(
            current_user, person, active=form.active.data, **form.person()
        ),
        message=lambda person: (
            _("The changes to %(name)s are saved.", name=person.display_name) + _waiting(person)
        ),
        then=url_for("org.profile", user_id=person.id),
        person=person,
        own=own,
    )


def _confirmed(
    person: User,
    do: Callable[[User, User], Any],
    done: Callable[[User], str],
    **question: Any,
):
    """An account action asked on a page of its own: GET shows `question` (org/confirm.html:
    action, title, message, button, danger, problem); POST runs `do(actor, person)`, then
    `done(person)` as a toast on the person's profile, or the refusal's reason there."""
    if request.method == "POST":
        return record_action(
            person,
            lambda person, form: do(current_user, person),
            message=done,
            then=url_for("org.profile", user_id=person.id),
            on_error=lambda error, form: _back_to_profile(person, error),
        )
    return render("org/confirm.html", person=person, form=ConfirmForm(), **question)


def _back_to_profile(person, error):
    """A refused account action: its reason as a toast, on the person's profile."""
    flash(error.message, "error")
    return redirect_to(url_for("org.profile", user_id=person.id))


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
@require("users.manage")
def admin_user_deactivate(user_id: int):
    """Deactivate an account after confirmation (GET shows the confirmation)."""
    person = get_visible_or_404(User, user_id, current_user)
    return _confirmed(
        person,
        services.deactivate_user,
        lambda person: _(
            "%(name)s has been deactivated and can no longer sign in.", name=person.display_name
        ),
        action=url_for("org.admin_user_deactivate", user_id=person.id),
        title=_("Deactivate %(name)s?", name=person.display_name),
        message=_(
            "%(name)s will no longer be able to sign in. The account and every record stay; "
            "you can reactivate it later or hand the records to someone else.",
            name=person.display_name,
        ),
        button=_("Deactivate"),
        danger=True,
        problem=services.deactivation_problem(current_user, person)
        or (_("This account is already inactive.") if not person.active else None),
    )


@bp.route("/users/<int:user_id>/reactivate", methods=["GET", "POST"])
@require("users.manage")
def admin_user_reactivate(user_id: int):
    """Reactivate an account after confirmation."""
    person = get_visible_or_404(User, user_id, current_user)
    return _confirmed(
        person,
        services.reactivate_user,
        lambda person: _("%(name)s can sign in again.", name=person.display_name),
        action=url_for("org.admin_user_reactivate", user_id=person.id),
        title=_("Reactivate %(name)s?", name=person.display_name),
        message=_(
            "%(name)s will be able to sign in again with their password.", name=person.display_name
        ),
        button=_("Reactivate"),
        danger=False,
        problem=_("This account is already active.") if person.active else None,
    )


@bp.route("/users/<int:user_id>/reset-password", methods=["GET", "POST"])
@require("users.manage")
def admin_user_password(user_id: int):
    """Set a new password for someone who has forgotten theirs."""
    person = get_visible_or_404(User, user_id, current_user)
    return edit_page(
        "org/password.html",
        "password_form",
        ResetPasswordForm(),
        person,
        lambda person, form: services.reset_password(
            current_user,
            person,
            form.password.data,
            current_app.config["PASSWORD_HASH_METHOD"],
            keep=session.get(SESSION_TOKEN),
        ),
        message=lambda person: _(
            "The password of %(name)s has been reset and their sessions have ended. "
            "Tell them the new one.",
            name=person.display_name,
        ),
        then=url_for("org.profile", user_id=person.id),
        person=person,
    )


@bp.route("/users/<int:user_id>/end-sessions", methods=["GET", "POST"])
@require("users.manage")
def admin_user_end_sessions(user_id: int):
    """Sign someone out everywhere after confirmation (a lost phone, a shared computer)."""
    person = get_visible_or_404(User, user_id, current_user)
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])

    def end(actor: User, person: User) -> None:
        services.end_user_sessions(actor, person, keep=session.get(SESSION_TOKEN))

    return _confirmed(
        person,
        end,
        lambda person: _(
            "Every session of %(name)s has ended; they must sign in again.",
            name=person.display_name,
        ),
        action=url_for("org.admin_user_end_sessions", user_id=person.id),
        title=_("Sign %(name)s out everywhere?", name=person.display_name),
        message=_(
            "Open sessions of %(name)s: %(count)s. Every one of them ends now, on every "
            "computer and phone; %(name)s can sign in again with their password.",
            name=person.display_name,
            count=open_sessions(person, idle),
        ),
        button=_("End all sessions"),
        danger=True,
        problem=None,
    )


@bp.route("/users/<int:user_id>/grant-roles", methods=["GET", "POST"])
@require()
def admin_user_grant(user_id: int):
    """An executive confirms roles an administrator asked for an administrator account
    (the executives' notification links here, with ?roles=a,b)."""
    if not services.may_grant_roles(current_user):
        abort(403)
    person = get_visible_or_404(User, user_id, current_user)
    codes = [c for c in request.args.get("roles", "").split(",") if c][:10]
    names = "、".join(role_label(code) for code in codes)
    return _confirmed(
        person,
        lambda actor, person: services.grant_roles(actor, person, codes),
        lambda person: _(
            "%(name)s now has the roles %(roles)s.", name=person.display_name, roles=names
        ),
        action=url_for("org.admin_user_grant", user_id=person.id, roles=",".join(codes)),
        title=_("Give %(name)s the roles %(roles)s?", name=person.display_name, roles=names),
        message=_(
            "With these roles the account of %(name)s would hold the administrator role "
            "together with business roles: it would keep users and settings and also see "
            "business records. Grant them only if that is intended.",
            name=person.display_name,
        ),
        button=_("Grant the roles"),
        danger=True,
        problem=services.grant_roles_problem(current_user, person, codes),
    )


@bp.route("/users/<int:user_id>/handover", methods=["GET", "POST"])
@require_any("users.manage", "users.handover")
def admin_user_handover(user_id: int):
    """Hand every record a person owns to another active user, in one step."""
    person = get_visible_or_404(User, user_id, current_user)
    # The target is chosen with the people picker (active accounts); hand_over() refuses
    # the person themself.
    form = HandoverForm()
    counts = services.owned_counts(person)

    def target() -> User:
        return db.session.get(User, form.target_id.data)

    return edit_page(
        "org/handover.html",
        "handover_form",
        form,
        person,
        lambda person, form: services.hand_over(current_user, person, target()),
        message=lambda moved: _(
            "%(count)s records of %(name)s now belong to %(target)s.",
            count=sum(moved.values()),
            name=person.display_name,
            target=target().display_name,
        ),
        then=url_for("org.profile", user_id=person.id),
        person=person,
        counts=counts,
        total=sum(n for _m, _l, n in counts),
    )


# --- groups and posts -------------------------------------------------------------


def _by_name(person) -> tuple:
    return (person.display_name, person.username, person.id)


@bp.route("/groups/<int:group_id>/edit", methods=["GET", "POST"])
@require_any("users.manage", "posts.edit")
def group_edit(group_id: int):
    """Rename a group, describe it and choose its leader among its active members."""
    group = get_visible_or_404(
        Group, group_id, current_user, options=(selectinload(Group.members),)
    )
    form = GroupForm(obj=group) if request.method == "GET" else GroupForm()
    form.leader_id.scope = group.id
    form.leader_id.offer(sorted((u for u in group.members if u.active), key=_by_name))
    return edit_page(
        "org/group_form.html",
        "group_form",
        form,
        group,
        lambda group, form: services.update_group(
            current_user,
            group,
            name=form.name.data,
            description=form.description.data,
            leader_id=form.leader_id.data,
        ),
        message=_("The group %(name)s is saved."),
        then=url_for("org.chart") + f"#group-{group.id}",
        group=group,
    )


@bp.get("/posts")
@require()
def posts():
    """Every post with its duties (P1.2) and the people who hold it."""
    return render("org/posts.html", posts=services.posts_with_holders())


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@require("posts.edit")
def posts_edit(post_id: int):
    """Rename a post and rewrite its duties, one per line."""
    post = get_visible_or_404(Post, post_id, current_user)
    return edit_page(
        "org/post_form.html",
        "post_form",
        PostForm(obj=post) if request.method == "GET" else PostForm(),
        post,
        lambda post, form: services.update_post(
            current_user, post, name=form.name.data, duties=form.duties.data
        ),
        message=_("The duties of %(name)s are saved."),
        then=url_for("org.posts") + f"#post-{post.id}",
        post=post,
    )


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    audit.describe_action("password", _l("Password reset"))
    audit.describe_action("sessions", _l("Sessions ended"))
    nav.add("P1", nav.NavEntry("org.chart", nav._l("Org chart"), icon="org"))
    nav.add("P1", nav.NavEntry("org.users", nav._l("Directory"), icon="people"))
    nav.add("P1", nav.NavEntry("org.posts", nav._l("Posts & duties"), icon="post"))
    nav.add(
        "admin",
        nav.NavEntry(
            "org.admin_users", nav._l("User administration"), permissions=("users.manage",)
        ),
    )
