"""Marketing expenses (P6.1 budgets, P6.2 claims and their approval, P6.3 monitoring)."""

from flask import Blueprint

bp = Blueprint("expense", __name__, url_prefix="/expense")

from mktapp.expense import (  # noqa: E402,F401  (the routes need `bp`)
    budget,
    claims,
    monitoring,
    routes_budget,
    routes_claims,
    routes_monitoring,
)


def register(app) -> None:
    """The chapter in the app: its blueprint, then what its parts add to the registries
    (importing a module registers nothing)."""
    app.register_blueprint(bp)
    for part in (
        budget,
        claims,
        monitoring,
        routes_budget,
        routes_claims,
        routes_monitoring,
    ):
        part.setup(app)
