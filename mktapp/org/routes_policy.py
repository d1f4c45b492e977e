"""The policy itself (P0, P7.3) and the org chart as a PDF (P1).

Staff read each chapter where they work: a chapter links to the screens that
carry it out. Chapters are editable; releasing a version records the
effective date and what changed; chapter edits are in the audit log.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app

from mktapp.core.pdf import pdf_response, render_pdf
from mktapp.core.permissions import require
from mktapp.org import bp
from mktapp.org.reports import chart_report


def local_today():
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


@bp.get("/chart.pdf")
@require()
def chart_pdf():
    """The org chart with every post's duties, as a PDF."""
    data = render_pdf("reports/org_chart.html", today=local_today(), **chart_report())
    return pdf_response(data, "营销部门组织架构与岗位职责.pdf", fallback="org-chart.pdf")
