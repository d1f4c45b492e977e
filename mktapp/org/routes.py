"""Organisation views: the org chart (P1.1)."""

from __future__ import annotations

from mktapp.core import nav
from mktapp.core.htmx import render
from mktapp.core.permissions import require
from mktapp.org import bp
from mktapp.org.services import org_chart

nav.add("P1", nav.NavEntry("org.chart", nav._l("Org chart"), icon="org"))


@bp.get("/")
@require()
def chart():
    """The org chart: the manager, the three groups, their leaders and members."""
    return render("org/chart.html", **org_chart())
