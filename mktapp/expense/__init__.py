"""Marketing expenses (P6.1 budgets, P6.2 claims and their approval, P6.3 monitoring)."""

from flask import Blueprint

from mktapp.core.chapter import chapter

bp = Blueprint("expense", __name__, url_prefix="/expense")

from mktapp.expense import (  # noqa: E402,F401  (the routes need `bp`)
    budget,
    claims,
    monitoring,
    routes_budget,
    routes_claims,
    routes_monitoring,
)

register = chapter(bp, budget, claims, monitoring, routes_budget, routes_claims, routes_monitoring)
