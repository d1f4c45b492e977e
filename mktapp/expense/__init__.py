"""Marketing expenses (P6.1 budgets, P6.2 claims and their approval, P6.3 monitoring)."""

from flask import Blueprint

bp = Blueprint("expense", __name__, url_prefix="/expense")

from mktapp.expense import routes_budget, routes_claims, routes_monitoring  # noqa: E402,F401
