"""Workbench view."""

from __future__ import annotations

from flask_login import current_user

from mktapp.core import nav
from mktapp.core.htmx import render
from mktapp.core.permissions import require
from mktapp.dashboard import bp
from mktapp.dashboard.services import workbench


@bp.get("/")
@require()
def index():
    """The signed-in user's workbench."""
    return render("dashboard/index.html", **workbench(current_user))


def setup(app) -> None:
    """What this module adds to the app's registries (sidebar, flows, settings, audit
    labels, attachments, page parts); called by the chapter's register(app)."""
    nav.add("home", nav.NavEntry("dashboard.index", nav._l("Workbench"), icon="home"))
