"""Customer development (P4.1): customers and leads, the pipeline, follow-ups, products."""

from flask import Blueprint

from mktapp.core.chapter import chapter

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

register = chapter(
    bp, customers, followups, pipeline, routes_customers, routes_pipeline, routes_products
)
