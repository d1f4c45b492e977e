"""Notifications: the user's list, the bell's count, mark read (one or all)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from mktapp.core import nav, notify
from mktapp.core.htmx import redirect_to, render
from mktapp.core.permissions import require
from mktapp.extensions import db

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
bp.record_once(lambda state: notify.init_app(state.app))


@bp.get("/")
@require()
def index():
    """The signed-in user's notifications: unread first, newest first."""
    query = notify.NotificationQuery.from_args(request.args)
    page = notify.notifications_page(current_user, query, current_app.config["PAGE_SIZE"])
    return render("core/notifications.html", block="notification_rows", page=page, query=query)


@bp.get("/bell")
@require()
def bell():
    """The bell's unread count (the layout polls it)."""
    count = notify.unread_count(current_user)
    if count:
        html = Markup('<span id="bell_count" class="badge">{}</span>').format(count)
    else:
        html = Markup('<span id="bell_count" class="badge" hidden></span>')
    response = current_app.response_class(str(html), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:notification_id>/read")
@require()
def read(notification_id: int):
    """Mark one of one's notifications read and go to what it is about."""
    note = notify.own_notification(current_user, notification_id)
    if note is None:
        abort(404)
    notify.mark_read(note)
    db.session.commit()
    return redirect_to(note.url or url_for("notifications.index"))


@bp.post("/read-all")
@require()
def read_all():
    """Mark all of one's notifications read."""
    count = notify.mark_all_read(current_user)
    db.session.commit()
    if count:
        flash(_("%(n)s notifications marked as read.", n=count), "success")
    return redirect_to(url_for("notifications.index"))


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add("home", nav.NavEntry("notifications.index", _l("Notifications"), icon="bell"))


def register(app) -> None:
    """Its blueprint, and what it adds to the registries."""
    app.register_blueprint(bp)
    setup(app)
