"""Customer development (P4.1): customers and leads, the pipeline, follow-ups, products."""

from flask import Blueprint

bp = Blueprint("sales", __name__, url_prefix="/sales")

from mktapp.sales import (  # noqa: E402,F401  (the routes need `bp`)
    customers,
    followups,
    pipeline,
    routes_customers,
    routes_followups,
    routes_pipeline,
    routes_products,
)


def register(app) -> None:
    """The chapter in the app: its blueprint, then what its parts add to the registries
    (importing a module registers nothing)."""
    app.register_blueprint(bp)
    for part in (
        customers,
        followups,
        pipeline,
        routes_customers,
        routes_pipeline,
        routes_products,
    ):
        part.setup(app)
