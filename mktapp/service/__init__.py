"""Customer relationships and after-sales service (P5): tickets routed to departments
within working-time limits (P5.3), their quality (P5.4) and cost (P5.5)."""

from flask import Blueprint

from mktapp.core.chapter import chapter

bp = Blueprint("service", __name__, url_prefix="/service")

from mktapp.service import (  # noqa: E402
    customer_links,
    routes_quality,
    routes_settings,
    routes_tickets,
)

register = chapter(bp, routes_tickets, routes_settings, routes_quality, customer_links)
