"""Market research (P2.1 plans, P2.2 methods: questionnaires and field notes, P2.4 analysis).

Competitors, industry news, market demand and the research report are a later part of
this chapter; the analysis exposes question_block() and crosstab_block() for the report.
"""

from flask import Blueprint

from mktapp.core.chapter import chapter

bp = Blueprint("research", __name__, url_prefix="/research")

from mktapp.research import (  # noqa: E402,F401  (the routes need `bp`)
    market,
    plans,
    reports,
    routes_market,
    routes_plans,
    routes_public,
    routes_reports,
    routes_surveys,
    surveys,
)

register = chapter(
    bp, market, plans, reports, surveys, routes_market, routes_plans, routes_reports, routes_surveys
)
