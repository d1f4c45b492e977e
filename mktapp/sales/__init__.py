"""Customer development (P4.1): customers and leads, the pipeline, follow-ups, products."""

from flask import Blueprint

bp = Blueprint("sales", __name__, url_prefix="/sales")

from mktapp.sales import (  # noqa: E402,F401
    routes_customers,
    routes_followups,
    routes_pipeline,
    routes_products,
)
